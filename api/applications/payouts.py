"""Payouts in flight, for staff: what was asked of the provider and is not settled yet
(`GET /v1/staff/payouts`), and a staff member's command on one (`POST /v1/staff/applications/{id}/payout`:
reconcile with the provider's record, retry under the same idempotency key, or cancel). The command runs in the
application's workflow, which alone moves the money; every command is in the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.constrained import RequestBody
from api.dependencies import Db, StaffAudit, StaffWith, Temporal
from api.money import Amount
from api.problems import Problem
from api.workflow_calls import update_workflow
from contracts.origination import PayoutResolution, PayoutResolutionResult, application_workflow_id
from store.repositories import applications
from workflows.loan_application import LoanApplicationWorkflow

router = APIRouter(prefix="/v1/staff", tags=["staff: payouts in flight"])


class PayoutInFlight(BaseModel):
    application_id: uuid.UUID
    amount: Amount
    provider_reference: str | None
    attempt: int | None
    requested_at: datetime | None
    case: str | None = Field(description="unknown_at_provider or unconfirmed: the workflow waits for staff")


class PayoutsInFlight(BaseModel):
    data: list[PayoutInFlight]
    has_more: bool


class PayoutCommand(RequestBody):
    action: Literal["reconcile", "retry", "cancel"]
    reason: str = Field(min_length=3, max_length=500)


@router.get("/payouts", response_model=PayoutsInFlight)
async def payouts_in_flight(
    _: StaffWith("accountant", "underwriter", "support"),
    db: Db,
    cases_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PayoutsInFlight:
    """Oldest first; `cases_only` lists those the workflow could not settle by itself."""
    rows = await applications.payouts_in_flight(db, limit + 1, cases_only)
    return PayoutsInFlight(
        data=[
            PayoutInFlight(
                application_id=a.id,
                amount=Amount(amount=int((a.offer or {}).get("principal", a.principal)), currency=a.currency),
                provider_reference=a.payout_reference,
                attempt=a.payout_attempt,
                requested_at=a.payout_requested_at,
                case=a.payout_case,
            )
            for a in rows[:limit]
        ],
        has_more=len(rows) > limit,
    )


@router.post("/applications/{application_id}/payout", response_model=PayoutResolutionResult)
async def resolve_payout(
    application_id: uuid.UUID,
    body: PayoutCommand,
    staff: StaffWith("accountant"),
    db: Db,
    temporal: Temporal,
    audit: StaffAudit,
) -> PayoutResolutionResult:
    """Only while a payout is in flight (409 otherwise). Answers what the provider says after the command."""
    if await applications.application(db, application_id) is None:
        raise Problem(404, "not_found", "no such application")
    await db.rollback()  # no connection held while the workflow asks the provider
    result: PayoutResolutionResult = await update_workflow(
        temporal,
        application_workflow_id(str(application_id)),
        LoanApplicationWorkflow.resolve_payout,
        PayoutResolution(action=body.action, staff_id=str(staff.id), reason=body.reason),
    )
    await audit.record(
        f"application.payout_{body.action}",
        target_type="application",
        target_id=str(application_id),
        details={**body.model_dump(), "provider_status": result.status, "reference": result.reference},
    )
    await db.commit()
    return result
