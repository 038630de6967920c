"""What the commission workflows and activities pass each other (times travel as ISO strings)."""

from __future__ import annotations

from pydantic import BaseModel


class DistributorInput(BaseModel):
    project: str
    mode: str  # realtime | daily
    wait_seconds: float = 2.0  # realtime: the longest a lone event waits when no ingestion nudges the distributor
    batch_size: int = 20_000
    parts: int = 1  # lanes taken side by side, each by its own activity (any worker may run it)


class DistributeInput(BaseModel):
    project: str
    limit: int
    before: str | None = None  # only events that occurred before this time (a period's end)
    posted_period: str | None = None  # the period being closed; default: the open period
    part: int = 0  # take the events whose lane % parts == part
    parts: int = 1


class DistributeResult(BaseModel):
    events: int
    lines: int
    amount: int
    more: bool


class PeriodCloseInput(BaseModel):
    project: str
    period: str
    staff_id: str | None = None
    batch_size: int = 20_000
    payout_confirm_wait_seconds: int = 600  # for the payouts a project makes at close
    parts: int = 1  # what still waits for the period is distributed in this many lanes side by side


class PayoutsToStart(BaseModel):
    operation_ids: list[str]


class PeriodCloseBegun(BaseModel):
    status: str  # closing | closed
    ends_at: str


class PeriodCloseResult(BaseModel):
    project: str
    period: str
    status: str  # closed | already_closed
    events: int = 0
    amount: int = 0
    statements: int = 0
    notified: int = 0
    payouts: int = 0


class CloseDueInput(BaseModel):
    project: str
    payout_confirm_wait_seconds: int = 600
    parts: int = 1


class RecalculationRef(BaseModel):
    recalculation_id: int


class RecalculationInput(BaseModel):
    recalculation_id: int
    approval_wait_seconds: float = 30 * 86_400


class RecalculationPreview(BaseModel):
    recalculation_id: int
    status: str  # previewed | unchanged
    events: int
    total: int


class ApproveRecalculation(BaseModel):
    staff_id: str


class ApprovalRequest(BaseModel):
    recalculation_id: int
    staff_id: str


class RecalculationOutcome(BaseModel):
    recalculation_id: int
    status: str  # posted | unchanged | changed (the preview was recomputed: approve again) | expired
    total: int = 0
    entry_id: int | None = None


# Workflow ids: one per business object, so that a second start finds the running process.
def distributor_workflow_id(project: str) -> str:
    return f"commission-distributor-{project}"


def period_workflow_id(project: str, period: str) -> str:
    return f"commission-period-{project}-{period}"


def recalculation_workflow_id(recalculation_id: int) -> str:
    return f"commission-recalculation-{recalculation_id}"


def close_schedule_id(project: str) -> str:
    return f"commission-close-{project}"
