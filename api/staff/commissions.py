"""Staff steering of commissions: closing a period (`POST /v1/staff/projects/{code}/periods/{period}/close`), and
recalculations after a retroactive change (`GET /v1/staff/recalculations/{id}`, `POST .../{id}/approve`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.constrained import MAX_DB_INT, PathName, PathPeriod
from api.dependencies import Db, Resources, StaffAudit, StaffWith, Temporal, require_project
from api.pages import Page
from api.problems import Problem
from api.workflow_calls import run_workflow, update_workflow
from config.task_queues import Family
from contracts.commissions import (
    ApproveRecalculation,
    PeriodCloseInput,
    PeriodCloseResult,
    RecalculationInput,
    RecalculationOutcome,
    period_workflow_id,
    recalculation_workflow_id,
)
from store.repositories import affiliate, commissions
from workflows.commissions import CommissionPeriodWorkflow, CommissionRecalculationWorkflow

router = APIRouter(prefix="/v1/staff", tags=["staff: commissions"])


@router.post("/projects/{code}/periods/{period}/close", response_model=PeriodCloseResult)
async def close_period(
    code: PathName,
    period: PathPeriod,
    staff: StaffWith("accountant"),
    db: Db,
    resources: Resources,
    temporal: Temporal,
    audit: StaffAudit,
) -> PeriodCloseResult:
    """Freezes the period, posts what is still owed for it, writes statements and tells partners. Closing a closed
    period answers what was done and changes nothing."""
    require_project(staff, code)
    if await affiliate.project_by_code(db, code) is None:
        raise Problem(404, "not_found", "no such project")
    await audit.record("commission_period.close", target_type="project", target_id=code, details={"period": period})
    await db.commit()
    data = PeriodCloseInput(
        project=code,
        period=period,
        staff_id=str(staff.id),
        batch_size=resources.settings.commission_batch_size,
        payout_confirm_wait_seconds=resources.settings.payout_confirm_wait_seconds,
        parts=resources.settings.commission_parts,
    )
    result: PeriodCloseResult = await run_workflow(
        temporal,
        CommissionPeriodWorkflow.run,
        data,
        workflow_id=period_workflow_id(code, period),
        task_queue=resources.settings.queue_for(Family.COMMISSIONS),
    )
    return result


class DifferenceView(BaseModel):
    partner_id: uuid.UUID
    period: str
    paid: int
    should_be: int
    difference: int


class RecalculationView(BaseModel):
    id: int
    project: str
    partner_id: uuid.UUID
    cause: str = Field(description="terms: the partner's terms changed; move: the partner moved to another sponsor")
    valid_from: datetime
    valid_to: datetime | None
    status: str
    events: int
    total: int
    currency: str
    differences: list[DifferenceView]
    approved_by: uuid.UUID | None
    entry_id: int | None
    posted_period: str | None


@router.get("/recalculations/{recalculation_id}", response_model=RecalculationView)
async def recalculation(
    recalculation_id: Annotated[int, Path(ge=1, le=MAX_DB_INT)], staff: StaffWith("accountant", "support"), db: Db
) -> RecalculationView:
    """Per partner and period of the events: what was paid, what should have been, the difference."""
    found = await commissions.recalculation(db, recalculation_id)
    if found is None:
        raise Problem(404, "not_found", "no such recalculation")
    project = next(p for p in await affiliate.projects(db) if p.id == found.project_id)
    require_project(staff, project.code)
    rows = await commissions.preview_of(db, recalculation_id)
    return RecalculationView(
        id=found.id,
        project=project.code,
        partner_id=found.partner_id,
        cause=found.cause,
        valid_from=found.valid_from,
        valid_to=found.valid_to,
        status=found.status,
        events=found.events,
        total=found.total,
        currency=project.currency,
        approved_by=found.approved_by,
        entry_id=found.entry_id,
        posted_period=found.posted_period,
        differences=[
            DifferenceView(
                partner_id=uuid.UUID(d.partner_id),
                period=d.period,
                paid=d.paid,
                should_be=d.should_be,
                difference=d.amount,
            )
            for d in rows
        ],
    )


class RecalculationLine(BaseModel):
    id: int
    partner_id: uuid.UUID
    cause: str
    status: str
    valid_from: datetime
    events: int
    total: int
    created_at: datetime


@router.get("/projects/{code}/recalculations", response_model=Page[RecalculationLine])
async def recalculations(code: PathName, staff: StaffWith("accountant", "support"), db: Db) -> Page[RecalculationLine]:
    """The project's recalculations, newest first: previews waiting for approval, and what was posted."""
    require_project(staff, code)
    project = await affiliate.project_by_code(db, code)
    if project is None:
        raise Problem(404, "not_found", "no such project")
    return Page[RecalculationLine](
        data=[
            RecalculationLine(
                id=r.id,
                partner_id=r.partner_id,
                cause=r.cause,
                status=r.status,
                valid_from=r.valid_from,
                events=r.events,
                total=r.total,
                created_at=r.created_at,
            )
            for r in await commissions.recalculations_of(db, project.id)
        ]
    )


@router.post("/recalculations/{recalculation_id}/approve", response_model=RecalculationOutcome)
async def approve(
    recalculation_id: Annotated[int, Path(ge=1, le=MAX_DB_INT)],
    staff: StaffWith("accountant"),
    db: Db,
    temporal: Temporal,
    audit: StaffAudit,
) -> RecalculationOutcome:
    """Posts the previewed differences in the open period. If the numbers moved since the preview, nothing is
    posted: the answer says `changed` and the new preview waits for approval. Approving twice is a 409."""
    found = await commissions.recalculation(db, recalculation_id)
    if found is None:
        raise Problem(404, "not_found", "no such recalculation")
    project = next(p for p in await affiliate.projects(db) if p.id == found.project_id)
    require_project(staff, project.code)
    if found.status != "previewed":
        raise Problem(409, "conflict", f"the recalculation is {found.status}, not waiting for approval")
    outcome: RecalculationOutcome = await update_workflow(
        temporal,
        recalculation_workflow_id(recalculation_id),
        CommissionRecalculationWorkflow.approve,
        ApproveRecalculation(staff_id=str(staff.id)),
    )
    await audit.record(
        "recalculation.approve",
        target_type="recalculation",
        target_id=str(recalculation_id),
        details={"status": outcome.status, "total": outcome.total},
    )
    return outcome


async def start_recalculation(
    db: Db,
    resources: Resources,
    temporal: Temporal,
    *,
    project: affiliate.Project,
    partner_id: uuid.UUID,
    terms_id: int | None,
    valid_from: datetime,
    valid_to: datetime | None,
    staff_id: uuid.UUID,
    cause: str = "terms",
    scope: list[uuid.UUID] | None = None,
) -> int:
    """Record the recalculation, commit, and start its workflow (which computes the preview)."""
    recalculation_id = await commissions.add_recalculation(
        db,
        project_id=project.id,
        partner_id=partner_id,
        terms_id=terms_id,
        valid_from=valid_from,
        valid_to=valid_to,
        requested_by=staff_id,
        cause=cause,
        scope=scope,
    )
    await db.commit()
    await temporal.start_workflow(
        CommissionRecalculationWorkflow.run,
        RecalculationInput(
            recalculation_id=recalculation_id,
            approval_wait_seconds=resources.settings.recalculation_approval_wait_seconds,
        ),
        id=recalculation_workflow_id(recalculation_id),
        task_queue=resources.settings.queue_for(Family.COMMISSIONS),
    )
    return recalculation_id
