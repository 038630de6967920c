"""The process families, each with its own task queue (`<prefix>-<family>`), so an operator can run a pool of
workers per family (`lendflow worker --task-queue servicing`) and scale the one that is busy. Every workflow is
started on its family's queue; its activities run on the same queue."""

from __future__ import annotations

from enum import StrEnum


class Family(StrEnum):
    ORIGINATION = "origination"  # applications, CPA postbacks
    SERVICING = "servicing"  # loans, payments, changes, close of business
    COLLECTIONS = "collections"  # the collection ladder of an overdue loan
    COMMISSIONS = "commissions"  # distribution, periods, recalculations
    MESSAGING = "messaging"  # SMS and e-mail delivery
    PAYMENTS = "payments"  # wallets: transfers, bonuses, top-ups, payouts, holds
    # Activities only: the ranges of close of business and the lanes of commission distribution. Each worker process
    # takes `worker_bulk_slots` of them at once, so bulk work spreads over the processes that poll this queue.
    BULK = "bulk"


def family_queue(prefix: str, family: Family) -> str:
    return f"{prefix}-{family.value}"


def family_of_queue(queue: str) -> tuple[str, Family] | None:
    """(prefix, family) of a queue named the family way; None for any other name (a single-queue deployment)."""
    prefix, _, suffix = queue.rpartition("-")
    try:
        return prefix, Family(suffix)
    except ValueError:
        return None
