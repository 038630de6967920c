"""The affiliate network's configuration: projects with their commission plan (`POST /v1/staff/projects`), partners
in a tree by sponsor (`POST /v1/staff/partners`), and partners' effective-dated terms
(`POST /v1/staff/partners/{id}/terms`, which starts a recalculation when the terms change what was paid), and
client integrations. Period close and recalculations are steered from api/staff/commissions.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.constrained import MinorUnitsOrZero, PathName, RequestBody, Slug
from api.dependencies import Db, Resources, StaffAudit, StaffWith, Temporal, require_project
from api.idempotency import Idempotency
from api.money import DecimalString
from api.pages import Page
from api.phone import PhoneNumber
from api.problems import Problem
from api.staff.commissions import start_recalculation
from domain.affiliate.mapping import EventMapping, MappingInvalid
from domain.affiliate.periods import PeriodLength
from domain.affiliate.plans import MAX_LEVELS, CommissionPlan, PlanInvalid, check_plan
from domain.affiliate.revenue import AccrualMode, RevenueRule
from store.repositories import affiliate, commissions
from store.repositories.identity import user_for_phone
from workflows.commission_processes import ensure_project_processes

router = APIRouter(prefix="/v1/staff", tags=["staff: affiliate network"])

HUNDRED = Decimal(100)


class PlanBody(RequestBody):
    levels: list[DecimalString] = Field(min_length=1, max_length=20, description="percent of revenue per level")


class ProjectRequest(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "casino",
                    "name": "Casino",
                    "currency": "EUR",
                    "points_per_unit": "1",
                    "plan": {"levels": ["10", "5", "3"]},
                    "accrual": "realtime",
                }
            ]
        }
    )

    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")
    name: str = Field(min_length=1, max_length=200)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    points_per_unit: DecimalString = Field(description="points per minor unit of commission")
    point_value: DecimalString = "1"
    plan: PlanBody
    revenue: RevenueRule = RevenueRule.DEPOSITS
    registration_amount: MinorUnitsOrZero = 0
    accrual: AccrualMode = AccrualMode.PERIOD
    period: PeriodLength = PeriodLength.MONTH
    site_url: str | None = Field(
        default=None, pattern=r"^https://", max_length=500, description="where partners' referral links point"
    )
    payouts_at_close: bool = Field(default=False, description="pay partners out when a period closes")


class ProjectView(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    currency: str
    revenue: str
    levels: list[str]
    points_per_unit: str
    point_value: str
    accrual: str
    period: str
    payouts_at_close: bool
    site_url: str | None = None


def _project_view(p: affiliate.Project) -> ProjectView:
    return ProjectView(
        id=p.id,
        code=p.code,
        name=p.name,
        currency=p.currency,
        revenue=p.revenue,
        levels=[f"{(s * HUNDRED).normalize():f}" for s in p.level_shares],
        points_per_unit=str(p.points_per_unit),
        point_value=str(p.point_value),
        accrual=p.accrual,
        period=p.period,
        payouts_at_close=p.payouts_at_close,
        site_url=p.site_url,
    )


@router.post("/projects", status_code=201, response_model=ProjectView)
async def add_project(
    body: ProjectRequest, _: StaffWith(), db: Db, audit: StaffAudit, resources: Resources, temporal: Temporal
) -> ProjectView:
    """Also starts the project's commission processes: its distributor (real-time and daily accrual) and the
    Schedule that closes each period after it ends."""
    shares = tuple(Decimal(level) / HUNDRED for level in body.plan.levels)
    try:
        check_plan(CommissionPlan(shares, Decimal(body.points_per_unit), Decimal(body.point_value)))
    except PlanInvalid as invalid:
        raise Problem(422, "validation_error", str(invalid), extra={"problems": invalid.problems}) from None
    project = await affiliate.add_project(
        db,
        code=body.code,
        name=body.name,
        currency=body.currency,
        revenue=body.revenue,
        registration_amount=body.registration_amount,
        level_shares=list(shares),
        points_per_unit=Decimal(body.points_per_unit),
        point_value=Decimal(body.point_value),
        accrual=body.accrual,
        period=body.period,
        payouts_at_close=body.payouts_at_close,
        site_url=body.site_url,
    )
    if project is None:
        raise Problem(409, "conflict", f"a project with code {body.code!r} exists")
    await audit.record(
        "project.add", target_type="project", target_id=str(project.id), details=body.model_dump(mode="json")
    )
    await db.commit()
    await ensure_project_processes(
        temporal, resources.settings, project=project.code, accrual=project.accrual, period=project.period
    )
    return _project_view(project)


@router.get("/projects", response_model=Page[ProjectView])
async def list_projects(staff: StaffWith("accountant", "support"), db: Db) -> Page[ProjectView]:
    """The projects the staff member's scope covers."""
    found = await affiliate.projects(db)
    return Page[ProjectView](data=[_project_view(p) for p in found if not staff.projects or p.code in staff.projects])


class PartnerRequest(RequestBody):
    project: Slug
    sponsor_id: uuid.UUID | None = None
    name: str = Field(min_length=1, max_length=200)
    phone: PhoneNumber


class PartnerView(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    sponsor_id: uuid.UUID | None
    name: str
    referral_code: str
    depth: int
    upline: list[uuid.UUID] = Field(description="the sponsor first, up to the root")
    created_at: datetime


def partner_view(p: affiliate.Partner) -> PartnerView:
    return PartnerView(
        id=p.id,
        project_id=p.project_id,
        sponsor_id=p.sponsor_id,
        name=p.name,
        referral_code=p.referral_code,
        depth=p.depth,
        upline=affiliate.upline(p)[1:],
        created_at=p.created_at,
    )


@router.post("/partners", status_code=201, response_model=PartnerView)
async def add_partner(
    body: PartnerRequest, staff: StaffWith(), db: Db, resources: Resources, audit: StaffAudit
) -> PartnerView:
    """The partner signs in with this phone (one-time code) and sees their network and statements."""
    require_project(staff, body.project)
    project = await affiliate.project_by_code(db, body.project)
    if project is None:
        raise Problem(404, "not_found", "no such project")
    try:
        phone = body.phone
    except ValueError as err:
        raise Problem(422, "validation_error", str(err)) from None
    sponsor = None
    if body.sponsor_id is not None:
        sponsor = await affiliate.partner(db, body.sponsor_id)
        if sponsor is None or sponsor.project_id != project.id:
            raise Problem(422, "validation_error", "the sponsor is not a partner in this project")
    user = await user_for_phone(db, resources.cipher, phone)
    created = await affiliate.add_partner(db, project_id=project.id, user_id=user.id, sponsor=sponsor, name=body.name)
    if created is None:
        raise Problem(409, "conflict", "this phone's owner is already a partner in the project")
    await audit.record(
        "partner.add",
        target_type="partner",
        target_id=str(created.id),
        details={"project": project.code, "sponsor_id": str(body.sponsor_id or "")},
    )
    return partner_view(created)


class NetworkView(BaseModel):
    project: str
    partners: list[PartnerView]
    truncated: bool


@router.get("/projects/{code}/partners", response_model=NetworkView)
async def project_network(code: PathName, staff: StaffWith("accountant", "support"), db: Db) -> NetworkView:
    """Every partner of the project with their sponsor and depth: the genealogy tree, roots first."""
    require_project(staff, code)
    project = await affiliate.project_by_code(db, code)
    if project is None:
        raise Problem(404, "not_found", "no such project")
    limit = 5_000
    found = await affiliate.partners_of_project(db, project.id, limit + 1)
    return NetworkView(project=code, partners=[partner_view(p) for p in found[:limit]], truncated=len(found) > limit)


class TermsRequest(RequestBody):
    project: Slug
    valid_from: datetime
    valid_to: datetime | None = None
    levels: list[DecimalString] = Field(min_length=1, max_length=MAX_LEVELS)


class TermsView(BaseModel):
    id: int
    partner_id: uuid.UUID
    levels: list[str]
    valid_from: datetime
    valid_to: datetime | None
    preview: str | None = Field(
        default=None,
        description="the recalculation these terms started, when they change"
        " what was paid already: GET it for the differences, approve it to post them",
    )


@router.post("/partners/{partner_id}/terms", status_code=201, response_model=TermsView)
async def add_terms(
    partner_id: uuid.UUID,
    body: TermsRequest,
    staff: StaffWith(),
    db: Db,
    audit: StaffAudit,
    resources: Resources,
    temporal: Temporal,
    idem: Idempotency,
) -> JSONResponse:
    """Recorded, never changed: later records supersede earlier ones for the time they cover. Terms from a date
    whose events were paid already start a recalculation (named in `preview`): nothing is posted before an admin
    or accountant approves it."""
    require_project(staff, body.project)
    if (replayed := await idem.replay()) is not None:
        return replayed
    found = await affiliate.partner(db, partner_id)
    project = await affiliate.project_by_code(db, body.project)
    if found is None or project is None or found.project_id != project.id:
        raise Problem(404, "not_found", "no such partner in this project")
    if body.valid_from.tzinfo is None or (body.valid_to is not None and body.valid_to.tzinfo is None):
        raise Problem(422, "validation_error", "dates need a time zone")
    if body.valid_to is not None and body.valid_to <= body.valid_from:
        raise Problem(422, "validation_error", "valid_to must be after valid_from")
    shares = [Decimal(level) / HUNDRED for level in body.levels]
    if any(s < 0 for s in shares) or sum(shares) > sum(project.level_shares):
        raise Problem(422, "validation_error", "levels must not be negative nor share more than the project's plan")
    terms_id = await affiliate.add_terms(
        db,
        partner_id=partner_id,
        level_shares=shares,
        valid_from=body.valid_from,
        valid_to=body.valid_to,
        recorded_by=staff.id,
    )
    await audit.record(
        "partner.terms", target_type="partner", target_id=str(partner_id), details=body.model_dump(mode="json")
    )
    preview = None
    if await commissions.has_distributed_since(db, project.id, body.valid_from):
        recalculation_id = await start_recalculation(
            db,
            resources,
            temporal,
            project=project,
            partner_id=partner_id,
            terms_id=terms_id,
            valid_from=body.valid_from,
            valid_to=body.valid_to,
            staff_id=staff.id,
        )
        preview = f"/v1/staff/recalculations/{recalculation_id}"
    return await idem.answer(
        201,
        TermsView(
            id=terms_id,
            partner_id=partner_id,
            levels=[str(level) for level in body.levels],
            valid_from=body.valid_from,
            valid_to=body.valid_to,
            preview=preview,
        ),
    )


class MoveRequest(RequestBody):
    project: Slug
    sponsor_id: uuid.UUID
    valid_from: datetime = Field(description="events from this time on are shared up the new line")


class MoveView(BaseModel):
    partner: PartnerView
    moved: int = Field(description="partners whose line changed: the partner and everyone below it")
    preview: str | None = Field(default=None, description="the recalculation, when events from valid_from were paid")


@router.post("/partners/{partner_id}/sponsor", response_model=MoveView)
async def move_partner(
    partner_id: uuid.UUID,
    body: MoveRequest,
    staff: StaffWith(),
    db: Db,
    audit: StaffAudit,
    resources: Resources,
    temporal: Temporal,
) -> MoveView:
    """Moves the partner, with everyone below it, under another sponsor from a date. Events before the date stay
    with the old line; events already paid from the date are recalculated (named in `preview`) and posted after an
    admin or accountant approves."""
    require_project(staff, body.project)
    moved = await affiliate.partner(db, partner_id)
    sponsor = await affiliate.partner(db, body.sponsor_id)
    project = await affiliate.project_by_code(db, body.project)
    if moved is None or project is None or moved.project_id != project.id:
        raise Problem(404, "not_found", "no such partner in this project")
    if sponsor is None or sponsor.project_id != project.id:
        raise Problem(422, "validation_error", "the sponsor is not a partner in this project")
    if body.valid_from.tzinfo is None:
        raise Problem(422, "validation_error", "valid_from needs a time zone")
    if body.valid_from > datetime.now(UTC):
        raise Problem(422, "validation_error", "a move takes effect now or from a past date")
    await commissions.lock_project(db, project.id)
    try:
        old_path = await affiliate.move_partner(db, moved, sponsor, body.valid_from)
    except affiliate.MoveRefused as refused:
        raise Problem(422, "validation_error", str(refused)) from None
    after = await affiliate.partner(db, partner_id)
    assert after is not None
    members = await affiliate.network(db, partner_id, max_depth=1_000)
    await audit.record(
        "partner.move",
        target_type="partner",
        target_id=str(partner_id),
        details=body.model_dump(mode="json") | {"old_sponsor_id": str(moved.sponsor_id or "")},
    )
    preview = None
    if await commissions.has_distributed_since(db, project.id, body.valid_from):
        recalculation_id = await start_recalculation(
            db,
            resources,
            temporal,
            project=project,
            partner_id=partner_id,
            terms_id=None,
            valid_from=body.valid_from,
            valid_to=None,
            staff_id=staff.id,
            cause="move",
            scope=sorted({*old_path, *after.path}),
        )
        preview = f"/v1/staff/recalculations/{recalculation_id}"
    return MoveView(partner=partner_view(after), moved=len(members) + 1, preview=preview)


class IntegrationRequest(RequestBody):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")
    format: Literal["json", "csv"]
    mapping: dict[str, Any]
    secret: str = Field(min_length=16, max_length=200)


class IntegrationView(BaseModel):
    id: uuid.UUID
    project: Slug
    name: str
    format: str
    mapping: dict[str, Any]


@router.post("/projects/{code}/integrations", status_code=201, response_model=IntegrationView)
async def add_integration(
    code: PathName, body: IntegrationRequest, staff: StaffWith(), db: Db, resources: Resources, audit: StaffAudit
) -> IntegrationView:
    """How one client platform's events map onto ours; the secret signs what it sends (kept encrypted)."""
    require_project(staff, code)
    project = await affiliate.project_by_code(db, code)
    if project is None:
        raise Problem(404, "not_found", "no such project")
    try:
        EventMapping.from_stored(body.mapping)
    except (MappingInvalid, ValueError, TypeError) as invalid:
        raise Problem(422, "validation_error", f"mapping: {invalid}") from None
    created = await affiliate.add_integration(
        db,
        project_id=project.id,
        name=body.name,
        format=body.format,
        mapping=body.mapping,
        secret_encrypted=resources.cipher.encrypt(body.secret),
    )
    if created is None:
        raise Problem(409, "conflict", f"the project has an integration {body.name!r}")
    await audit.record(
        "integration.add",
        target_type="project",
        target_id=str(project.id),
        details={"name": body.name, "format": body.format},
    )
    return IntegrationView(
        id=created.id, project=code, name=created.name, format=created.format, mapping=created.mapping
    )
