"""Staff servicing: close of business (`POST/GET /v1/staff/cob`), the loan book (`GET /v1/staff/loans`), write-offs
and backdated corrections. Changes run in workflows (the loan book lives with the activities); the API waits for
their answer so staff see the result or a clear refusal."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.constrained import RequestBody
from api.dependencies import Db, Resources, StaffAudit, StaffWith, Temporal
from api.idempotency import Idempotency
from api.money import DecimalString
from api.problems import Problem
from api.workflow_calls import REFUSAL_STATUS, run_workflow
from config.task_queues import Family
from contracts.servicing import COB_RUNNER_ID, CobUntil, LoanChangeInput, LoanChangeResult
from domain.lending.engine import Component
from store.repositories import servicing
from workflows.close_of_business import CobRunWorkflow
from workflows.loan_servicing import LoanChangeWorkflow

router = APIRouter(prefix="/v1/staff", tags=["staff: servicing"])


class CobRequest(RequestBody):
    until: date


class CobRunView(BaseModel):
    business_date: date
    status: str
    loans_accrued: int
    projections_refreshed: int
    notices: int
    workflow_id: str


class CobProgressView(BaseModel):
    """A run in flight: dates to close and closed, and the loans of the date being closed."""

    dates_total: int
    dates_closed: int
    current_date: date | None
    loans_done: int
    loans_total: int


class CobView(BaseModel):
    last_closed: date | None
    open_business_date: date
    running: date | None
    runs: list[CobRunView]
    progress: CobProgressView | None = None


async def _cob_view(db: Db, timezone: str) -> CobView:
    cal = await servicing.calendar(db)
    runs = [CobRunView(**{k: r[k] for k in CobRunView.model_fields}) for r in await servicing.cob_runs(db)]
    return CobView(
        last_closed=cal.last_closed,
        running=cal.running,
        runs=runs,
        open_business_date=await servicing.open_business_date(db, timezone),
    )


@router.post("/cob", response_model=CobView, responses={202: {"model": CobView, "description": "still running"}})
async def run_cob(
    body: CobRequest,
    _: StaffWith("accountant"),
    db: Db,
    resources: Resources,
    temporal: Temporal,
    audit: StaffAudit,
    wait_s: float = Query(default=60, ge=0, le=600),
) -> JSONResponse:
    """Close every business date up to `until`, in order. Answers 200 with the calendar once done, or 202 while
    the run goes on (one run at a time: a second request joins the first)."""
    today = await servicing.open_business_date(db, resources.settings.market_timezone)
    furthest = today + timedelta(days=resources.settings.cob_max_days_ahead)
    if body.until > furthest:
        raise Problem(
            422,
            "validation_error",
            f"until may be at most {furthest} (LENDFLOW_COB_MAX_DAYS_AHEAD days after the open business date)",
        )
    await audit.record("cob.run", details={"until": body.until.isoformat()})
    await db.commit()
    try:
        handle = await temporal.start_workflow(
            CobRunWorkflow.run,
            CobUntil(until=body.until, parts=resources.settings.cob_parts),
            id=COB_RUNNER_ID,
            task_queue=resources.settings.queue_for(Family.SERVICING),
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        raise Problem(409, "conflict", "a close-of-business run is in progress; wait for it to finish") from None
    try:
        await asyncio.wait_for(handle.result(), timeout=wait_s)
    except TimeoutError:
        await db.rollback()
        return JSONResponse((await _cob_view(db, resources.settings.market_timezone)).model_dump(mode="json"), 202)
    except WorkflowFailureError as failure:
        cause: Any = failure.cause
        while cause is not None and getattr(cause, "type", None) is None:
            cause = getattr(cause, "cause", None)
        if cause is not None and cause.type in REFUSAL_STATUS:
            raise Problem(REFUSAL_STATUS[cause.type], cause.type, cause.message) from failure
        raise
    await db.rollback()
    return JSONResponse((await _cob_view(db, resources.settings.market_timezone)).model_dump(mode="json"), 200)


@router.get("/cob", response_model=CobView)
async def cob_calendar(
    _: StaffWith("accountant", "collector", "underwriter"), db: Db, resources: Resources, temporal: Temporal
) -> CobView:
    """The calendar and past runs; while a run is in flight, how far it has got (dates, and loans of the date)."""
    view = await _cob_view(db, resources.settings.market_timezone)
    handle = temporal.get_workflow_handle(COB_RUNNER_ID)
    try:
        running = (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        plan = await handle.query(CobRunWorkflow.progress) if running else None
    except (RPCError, WorkflowQueryFailedError):
        plan = None
    if plan is None and view.running is None:
        return view
    current = view.running
    done = next((r.loans_accrued for r in view.runs if r.business_date == current), 0) if current else 0
    total = await servicing.loans_to_accrue(db, current) if current else 0
    view.progress = CobProgressView(
        dates_total=len(plan.dates) if plan else 1,
        dates_closed=plan.closed if plan else 0,
        current_date=current,
        loans_done=done,
        loans_total=max(total, done),
    )
    return view


class StaffLoanLine(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    product_id: uuid.UUID
    status: str
    currency: str
    principal: int
    start_date: date
    due_date: date
    overdue_since: date | None
    days_past_due: int
    extensions: int
    collector_id: uuid.UUID | None


class StaffLoanList(BaseModel):
    data: list[StaffLoanLine]
    has_more: bool


@router.get("/loans", response_model=StaffLoanList)
async def loan_book(
    _: StaffWith("accountant", "collector", "underwriter", "support"),
    db: Db,
    resources: Resources,
    status: Literal["active", "overdue", "repaid", "written_off"] | None = None,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> StaffLoanList:
    today = await servicing.open_business_date(db, resources.settings.market_timezone)
    rows = await servicing.staff_loans(db, status, limit + 1, offset)
    lines = [
        StaffLoanLine(**r, days_past_due=(today - r["overdue_since"]).days if r["overdue_since"] else 0)
        for r in rows[:limit]
    ]
    return StaffLoanList(data=lines, has_more=len(rows) > limit)


class WriteOffRequest(RequestBody):
    reason: str = Field(min_length=3, max_length=500)


class CorrectionRequest(RequestBody):
    """A backdated correction: a payment received with an earlier value date, a waiver of a charge, or a new
    interest rate from a date (in the unit the product states it). The engine recalculates from that date; only the differences are posted."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "payment",
                    "value_date": "2026-11-20",
                    "amount": 5000,
                    "reason": "bank transfer received on the 20th",
                }
            ]
        }
    )

    kind: Literal["payment", "waiver", "rate_change", "fee"]
    value_date: date
    amount: int | None = Field(default=None, gt=0, le=10**12)
    component: Component | None = None
    rate: DecimalString | None = Field(
        default=None, description="rate_change: the new rate in the product's own unit (per day, month, year...)"
    )
    daily_rate: DecimalString | None = Field(default=None, description="the name `rate` had for daily-rate products")
    reason: str = Field(min_length=3, max_length=500)


async def _change(temporal: Temporal, resources: Resources, data: LoanChangeInput) -> LoanChangeResult:
    result = await run_workflow(
        temporal,
        LoanChangeWorkflow.run,
        data,
        workflow_id=f"loan-change-{data.reference}",
        task_queue=resources.settings.queue_for(Family.SERVICING),
    )
    assert isinstance(result, LoanChangeResult)
    return result


@router.post("/loans/{loan_id}/write-off", response_model=LoanChangeResult)
async def write_off(
    loan_id: uuid.UUID,
    body: WriteOffRequest,
    staff: StaffWith("accountant"),
    db: Db,
    resources: Resources,
    temporal: Temporal,
) -> LoanChangeResult:
    """What is still owed moves to the loss account; later recoveries are still taken."""
    await db.rollback()
    return await _change(
        temporal,
        resources,
        LoanChangeInput(
            loan_id=str(loan_id),
            reference=f"write-off:{loan_id}",
            kind="write_off",
            actor_id=str(staff.id),
            actor_label=staff.label or "staff",
            reason=body.reason,
        ),
    )


@router.post("/loans/{loan_id}/corrections", response_model=LoanChangeResult, status_code=201)
async def correct(
    loan_id: uuid.UUID,
    body: CorrectionRequest,
    staff: StaffWith("accountant"),
    db: Db,
    resources: Resources,
    temporal: Temporal,
    idem: Idempotency,
) -> JSONResponse:
    if (replayed := await idem.replay()) is not None:
        return replayed
    problems = []
    if body.kind in ("payment", "waiver", "fee") and body.amount is None:
        problems.append("amount is required")
    if body.kind == "waiver" and body.component is None:
        problems.append("component is required for a waiver")
    new_rate = body.rate if body.rate is not None else body.daily_rate
    if body.kind == "rate_change" and (new_rate is None or Decimal(new_rate) < 0):
        problems.append("rate (not negative) is required for a rate change")
    if problems:
        raise Problem(422, "validation_error", "; ".join(problems))
    loan = await servicing.serviced_loan(db, loan_id)
    if loan is None:
        raise Problem(404, "not_found", "no such loan")
    if body.value_date < loan.start_date:
        raise Problem(422, "validation_error", "the value date is before the loan started")
    if body.value_date > await servicing.open_business_date(db, resources.settings.market_timezone):
        raise Problem(422, "validation_error", "the value date is after the open business date")
    await db.commit()
    reference = f"correction:{loan_id}:{idem.operation_id()}"
    result = await _change(
        temporal,
        resources,
        LoanChangeInput(
            loan_id=str(loan_id),
            reference=reference,
            kind=body.kind,
            value_date=body.value_date,
            amount=body.amount,
            component=body.component,
            daily_rate=str(new_rate) if new_rate is not None else None,
            actor_id=str(staff.id),
            actor_label=staff.label or "staff",
            reason=body.reason,
        ),
    )
    return await idem.answer(201, result)
