"""Which task queue a child workflow of another family starts on: its family's queue beside the parent's own
(`lendflow-origination` starts the loan on `lendflow-servicing`). Deployments that name one queue of their own keep
every child on it, and histories written before the families existed replay as they were (`FAMILY_QUEUES` is the
`workflow.patched` marker that tells them apart)."""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import Priority

from config.task_queues import Family, family_of_queue, family_queue

FAMILY_QUEUES = "family-task-queues"


def child_queue(family: Family, *, patched: bool | None = None) -> str | None:
    """None: the child inherits the parent's queue. `patched` says whether the run has the family queues, when the
    workflow knows already (its bundle of patches, workflows/patches.py); otherwise the marker is asked for."""
    if not (workflow.patched(FAMILY_QUEUES) if patched is None else patched):
        return None
    found = family_of_queue(workflow.info().task_queue)
    return None if found is None else family_queue(found[0], family)


def bulk_queue() -> str | None:
    """Where a workflow sends the parts of bulk work (close of business ranges, distribution lanes): the bulk
    family's queue beside its own, or its own queue in a deployment that names one queue of its own."""
    found = family_of_queue(workflow.info().task_queue)
    return None if found is None else family_queue(found[0], Family.BULK)


# Parts waiting on the bulk queue are taken by priority (lower first): a real-time project's distribution goes
# ahead of the ranges of a close of business that is under way, instead of waiting for all of them.
DISTRIBUTION_PRIORITY = Priority(priority_key=2)
COB_PRIORITY = Priority(priority_key=4)
