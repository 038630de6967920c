"""A partner's own view: `GET /v1/partners/me` (their partner records, one per project),
`GET /v1/partners/me/network` (who is below them, per project, nearest first) and
`GET /v1/partners/me/statements` (per project and period: closed periods as closed, the open one as it stands).
Their commission wallet is one of their wallets (`GET /v1/wallets`), paid out like any other."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.constrained import RequestBody
from api.dependencies import CurrentUser, Db, Resources
from api.pages import Page
from api.problems import Problem
from api.staff.affiliate import PartnerView, partner_view
from store.repositories import affiliate, commissions

router = APIRouter(prefix="/v1/partners", tags=["partners"])


class MyPartnership(PartnerView):
    project: str
    project_name: str
    currency: str
    referral_link: str | None = Field(description="the project's site with `?ref=<code>`, when the project has one")


class NetworkMember(PartnerView):
    earned: int = Field(description="minor units: everything this member's own commission lines came to")


class NetworkView(BaseModel):
    partner_id: uuid.UUID
    members: list[NetworkMember]


@router.get("/me", response_model=Page[MyPartnership])
async def me(user: CurrentUser, db: Db) -> Page[MyPartnership]:
    found = await affiliate.partners_of_user(db, user.id)
    if not found:
        raise Problem(404, "not_found", "you are not a partner in any project")
    projects = {p.id: p for p in await affiliate.projects(db)}
    return Page[MyPartnership](
        data=[
            MyPartnership(
                **partner_view(p).model_dump(),
                project=projects[p.project_id].code,
                project_name=projects[p.project_id].name,
                currency=projects[p.project_id].currency,
                referral_link=_referral_link(projects[p.project_id].site_url, p.referral_code),
            )
            for p in found
        ]
    )


def _referral_link(site: str | None, code: str) -> str | None:
    if not site:
        return None
    return f"{site}{'&' if '?' in site else '?'}{urlencode({'ref': code})}"


@router.get("/me/network", response_model=Page[NetworkView])
async def my_network(user: CurrentUser, db: Db, depth: int = Query(default=7, ge=1, le=20)) -> Page[NetworkView]:
    """Each of the partner's records with their downline, nearest first, and what each member earned."""
    found = await affiliate.partners_of_user(db, user.id)
    if not found:
        raise Problem(404, "not_found", "you are not a partner in any project")
    views = []
    for p in found:
        members = await affiliate.network(db, p.id, depth)
        earned = await commissions.earned_by(db, [m.id for m in members])
        views.append(
            NetworkView(
                partner_id=p.id,
                members=[NetworkMember(**partner_view(m).model_dump(), earned=earned.get(m.id, 0)) for m in members],
            )
        )
    return Page[NetworkView](data=views)


class StatementView(BaseModel):
    project: str
    period: str
    partner_id: uuid.UUID
    status: str = Field(description="closed, or open: the period's lines so far")
    events: int
    points: int
    commissions: int
    reversals: int
    adjustments: int
    total: int
    currency: str


@router.get("/me/statements", response_model=Page[StatementView])
async def my_statements(
    user: CurrentUser, db: Db, project: Annotated[str | None, Query(max_length=64)] = None
) -> Page[StatementView]:
    found = [p for p in await affiliate.partners_of_user(db, user.id)]
    if not found:
        raise Problem(404, "not_found", "you are not a partner in any project")
    rows = await commissions.statements_of(db, [p.id for p in found])
    return Page[StatementView](
        data=[StatementView(**row.__dict__) for row in rows if project is None or row.project == project]
    )


class EarnedToday(BaseModel):
    project: str
    partner_id: uuid.UUID
    currency: str
    lines: int = Field(description="commission lines (one per event shared with you)")
    amount: int = Field(description="minor units: commissions, less reversals, plus adjustments, since midnight")
    since: datetime


@router.get("/me/earnings-today", response_model=Page[EarnedToday])
async def earned_today(user: CurrentUser, db: Db, resources: Resources) -> Page[EarnedToday]:
    """What the partner earned since midnight in the market's time zone, per project (posted or not yet)."""
    found = await affiliate.partners_of_user(db, user.id)
    if not found:
        raise Problem(404, "not_found", "you are not a partner in any project")
    zone = ZoneInfo(resources.settings.market_timezone)
    since = datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = await commissions.earned_since(db, [p.id for p in found], since)
    return Page[EarnedToday](data=[EarnedToday(**row, since=since) for row in rows])


class StatementLine(BaseModel):
    kind: str = Field(description="commission, reversal or adjustment")
    events: int
    points: int
    amount: int
    entry_id: int | None = Field(description="the journal entry that posted it (none when nothing was posted)")


class StatementDetail(BaseModel):
    project: str
    period: str
    currency: str
    data: list[StatementLine]
    has_more: bool = False


@router.get("/me/statements/{project}/{period}", response_model=StatementDetail)
async def my_statement(
    project: Annotated[str, Path(max_length=64)], period: Annotated[str, Path(max_length=16)], user: CurrentUser, db: Db
) -> StatementDetail:
    """The lines of one period's statement (closed or still open) in one project."""
    projects = {p.id: p for p in await affiliate.projects(db)}
    mine = [p for p in await affiliate.partners_of_user(db, user.id) if projects[p.project_id].code == project]
    if not mine:
        raise Problem(404, "not_found", "you are not a partner in that project")
    lines = await commissions.statement_lines(db, mine[0].id, period)
    currency = projects[mine[0].project_id].currency
    return StatementDetail(project=project, period=period, currency=currency, data=[StatementLine(**x) for x in lines])


class PendingDifference(BaseModel):
    recalculation_id: int
    project: str
    period: str
    currency: str
    paid: int
    should_be: int = Field(description="what the period comes to under the changed terms, once approved")
    requested_at: datetime


@router.get("/me/recalculations", response_model=Page[PendingDifference])
async def my_pending_recalculations(user: CurrentUser, db: Db) -> Page[PendingDifference]:
    """Recalculations staff have previewed and not yet approved that would change the partner's past periods."""
    found = await affiliate.partners_of_user(db, user.id)
    if not found:
        raise Problem(404, "not_found", "you are not a partner in any project")
    rows = await commissions.pending_differences_for(db, [p.id for p in found])
    return Page[PendingDifference](data=[PendingDifference(**row) for row in rows])


class PayoutDestination(RequestBody):
    destination: str = Field(min_length=3, max_length=200, description="the payment provider's token for an account")


@router.get("/me/payout-destination", response_model=PayoutDestination)
async def payout_destination(user: CurrentUser, db: Db) -> PayoutDestination:
    if not await affiliate.partners_of_user(db, user.id):
        raise Problem(404, "not_found", "you are not a partner in any project")
    found = await affiliate.payout_destination_of(db, user.id)
    if found is None:
        raise Problem(404, "not_found", "no payout destination is set")
    return PayoutDestination(destination=found)


@router.put("/me/payout-destination", response_model=PayoutDestination)
async def set_payout_destination(body: PayoutDestination, user: CurrentUser, db: Db) -> PayoutDestination:
    """Where commissions are paid when a project pays out at its periods' close."""
    if not await affiliate.set_payout_destination(db, user.id, body.destination):
        raise Problem(404, "not_found", "you are not a partner in any project")
    return body
