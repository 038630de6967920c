"""The underwriters' side: the queue (`GET /v1/staff/applications?status=manual_review`), one application with
everything the checks found, the decision on a case in review, and cancellation at any step. Every action is in
the audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.applications.schemas import CancelBody, DecisionBody, StaffApplicationList, StaffApplicationView
from api.applications.views import staff_application_view
from api.dependencies import Db, StaffAudit, StaffWith, Temporal
from api.problems import Problem
from api.workflow_calls import update_workflow
from store.repositories import agreements, applications, credit_checks
from workflows.loan_application import (
    CancelRequest,
    LoanApplicationWorkflow,
    ReviewDecision,
    application_workflow_id,
)

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
