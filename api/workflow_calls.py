"""Running a workflow on behalf of a request and turning its business refusals into problem documents."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from api.problems import Problem

REFUSAL_STATUS = {
    "insufficient_funds": 422,
    "limit_exceeded": 422,
    "validation_error": 422,
    "not_found": 404,
    "forbidden": 403,
    "conflict": 409,
}


async def run_workflow(client: Client, workflow: Any, data: Any, *, workflow_id: str, task_queue: str) -> Any:
    """Start (or join the run already started under this id) and wait for the result. A finished run under the
    same id is not started again: its result is read, which is what makes a retried request harmless."""
    try:
        handle = await client.start_workflow(
            workflow, data, id=workflow_id, task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )  # fmt: skip
    except WorkflowAlreadyStartedError:  # the run finished before: read its outcome
        handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.result()
    except WorkflowFailureError as failure:
        cause = failure.cause
        while cause is not None and not isinstance(cause, ApplicationError):
            cause = cause.cause
        if isinstance(cause, ApplicationError) and cause.type in REFUSAL_STATUS:
            raise Problem(REFUSAL_STATUS[cause.type], cause.type, cause.message) from failure
        raise
