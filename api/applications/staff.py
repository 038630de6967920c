"""The underwriters' side: the queue (`GET /v1/staff/applications?status=manual_review`), one application with
everything the checks found, the decision on a case in review, and cancellation at any step. Every action is in
the audit log."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.applications.schemas import CancelBody, DecisionBody, StaffApplicationList, StaffApplicationView
from api.applications.views import staff_application_view
from api.dependencies import Db, StaffAudit, StaffWith, Temporal
from api.problems import Problem
from api.workflow_calls import update_workflow
from contracts.origination import CancelRequest, ReviewDecision, application_workflow_id
from store.repositories import agreements, applications, credit_checks
from workflows.loan_application import LoanApplicationWorkflow

router = APIRouter(prefix="/v1/staff/applications", tags=["staff: applications"])

STATUSES = (
    "received",
    "checking",
    "manual_review",
    "offered",
    "rejected",
    "awaiting_signature",
    "awaiting_card",
    "disbursing",
    "disbursed",
    "cancelled",
    "expired",
    "failed",
)


@router.get("", response_model=StaffApplicationList)
async def queue(
    _: StaffWith("underwriter", "support"),
    db: Db,
    status: Annotated[str | None, Query(pattern="^(" + "|".join(STATUSES) + ")$")] = None,
    product: uuid.UUID | None = None,
    min_minutes_in_status: Annotated[int | None, Query(ge=0, le=10**6)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    starting_after: uuid.UUID | None = None,
) -> StaffApplicationList:
    """Longest waiting first; `min_minutes_in_status` finds the cases past their target."""
    older = None if min_minutes_in_status is None else datetime.now(UTC) - timedelta(minutes=min_minutes_in_status)
    rows = await applications.queue(
        db, status=status, product_id=product, older_than=older, limit=limit + 1, starting_after=starting_after
    )
    return StaffApplicationList(data=[staff_application_view(a) for a in rows[:limit]], has_more=len(rows) > limit)


async def _found(db: Db, application_id: uuid.UUID) -> applications.Application:
    app = await applications.application(db, application_id)
    if app is None:
        raise Problem(404, "not_found", "no such application")
    return app


async def _detail(db: Db, application_id: uuid.UUID) -> StaffApplicationView:
    app = await _found(db, application_id)
    checks = await credit_checks.checks_for_application(db, app.id)
    return staff_application_view(app, checks, await agreements.agreement(db, app.id))


@router.get("/{application_id}", response_model=StaffApplicationView)
async def read(
    application_id: uuid.UUID, _: StaffWith("underwriter", "support", "collector"), db: Db
) -> StaffApplicationView:
    return await _detail(db, application_id)


class ProcessEvent(BaseModel):
    id: int
    at: datetime
    kind: str  # the history event's type, e.g. activity_task_completed
    step: str | None = None  # the activity, timer, signal, update or child workflow it concerns


class ProcessView(BaseModel):
    workflow_id: str
    running: bool
    status: str | None  # what the workflow says now (its state query), None when it has ended
    events: list[ProcessEvent]


@router.get("/{application_id}/process", response_model=ProcessView)
async def process(
    application_id: uuid.UUID, _: StaffWith("underwriter", "support", "collector"), db: Db, temporal: Temporal
) -> ProcessView:
    """The application's workflow as Temporal keeps it: where it stands and every step of its history (no payloads:
    the events name their step, not the data it carried)."""
    await _found(db, application_id)
    await db.rollback()
    handle = temporal.get_workflow_handle(application_workflow_id(str(application_id)))
    try:
        described = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise Problem(404, "not_found", "no process is recorded for this application") from err
        raise
    running = described.status == WorkflowExecutionStatus.RUNNING
    status = None
    if running:
        with contextlib.suppress(RPCError, WorkflowQueryFailedError):
            status = (await handle.query(LoanApplicationWorkflow.state)).status
    events: list[ProcessEvent] = []
    scheduled: dict[int, str] = {}
    async for event in handle.fetch_history_events():
        events.append(_process_event(event, scheduled))
    return ProcessView(workflow_id=handle.id, running=running, status=status, events=events[-500:])


def _process_event(event: Any, scheduled: dict[int, str]) -> ProcessEvent:
    kind = EventType.Name(event.event_type).removeprefix("EVENT_TYPE_").lower()
    step = None
    if event.HasField("activity_task_scheduled_event_attributes"):
        step = event.activity_task_scheduled_event_attributes.activity_type.name
        scheduled[event.event_id] = step
    for name in ("activity_task_started", "activity_task_completed", "activity_task_failed", "activity_task_timed_out"):
        if event.HasField(f"{name}_event_attributes"):
            step = scheduled.get(getattr(event, f"{name}_event_attributes").scheduled_event_id)
    if event.HasField("workflow_execution_signaled_event_attributes"):
        step = event.workflow_execution_signaled_event_attributes.signal_name
    if event.HasField("workflow_execution_update_accepted_event_attributes"):
        step = event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
    if event.HasField("start_child_workflow_execution_initiated_event_attributes"):
        step = event.start_child_workflow_execution_initiated_event_attributes.workflow_type.name
    if event.HasField("timer_started_event_attributes"):
        step = f"timer {event.timer_started_event_attributes.start_to_fire_timeout.ToSeconds()} s"
    return ProcessEvent(id=event.event_id, at=event.event_time.ToDatetime(tzinfo=UTC), kind=kind, step=step)


@router.post("/{application_id}/decision", response_model=StaffApplicationView)
async def decide(
    application_id: uuid.UUID,
    body: DecisionBody,
    staff: StaffWith("underwriter"),
    db: Db,
    temporal: Temporal,
    audit: StaffAudit,
) -> StaffApplicationView:
    """Only while the case is in review; an approval may lower the amount, never raise it above what was asked."""
    await _found(db, application_id)
    if body.decision == "reject" and body.principal is not None:
        raise Problem(422, "validation_error", "a rejection has no principal")
    await db.rollback()  # no connection held while the workflow works
    await update_workflow(
        temporal,
        application_workflow_id(str(application_id)),
        LoanApplicationWorkflow.review,
        ReviewDecision(decision=body.decision, principal=body.principal, reason=body.reason, staff_id=str(staff.id)),
    )
    await audit.record(
        "application.decision", target_type="application", target_id=str(application_id), details=body.model_dump()
    )
    await db.commit()
    return await _detail(db, application_id)


@router.post("/{application_id}/cancel", response_model=StaffApplicationView)
async def cancel(
    application_id: uuid.UUID,
    body: CancelBody,
    staff: StaffWith("underwriter"),
    db: Db,
    temporal: Temporal,
    audit: StaffAudit,
) -> StaffApplicationView:
    """At any step before the payout is asked for; what was done is undone (the agreement is voided)."""
    await _found(db, application_id)
    await db.rollback()  # no connection held while the workflow works
    await update_workflow(
        temporal,
        application_workflow_id(str(application_id)),
        LoanApplicationWorkflow.cancel,
        CancelRequest(reason=body.reason, by=f"staff:{staff.id}"),
    )
    await audit.record(
        "application.cancel", target_type="application", target_id=str(application_id), details=body.model_dump()
    )
    await db.commit()
    return await _detail(db, application_id)
