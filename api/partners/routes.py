"""A partner's own view: `GET /v1/partners/me` (their partner records, one per project),
`GET /v1/partners/me/network` (who is below them, per project, nearest first) and
`GET /v1/partners/me/statements` (per project and period: closed periods as closed, the open one as it stands).
Their commission wallet is one of their wallets (`GET /v1/wallets`), paid out like any other."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.constrained import RequestBody
from api.dependencies import CurrentUser, Db
from api.pages import Page
from api.problems import Problem
from api.staff.affiliate import PartnerView, partner_view
from store.repositories import affiliate, commissions

router = APIRouter(prefix="/v1/partners", tags=["partners"])


class NetworkView(BaseModel):
    partner_id: uuid.UUID
    members: list[PartnerView]


@router.get("/me", response_model=Page[PartnerView])
async def me(user: CurrentUser, db: Db) -> Page[PartnerView]:
    found = await affiliate.partners_of_user(db, user.id)
    if not found:
        raise Problem(404, "not_found", "you are not a partner in any project")
    return Page[PartnerView](data=[partner_view(p) for p in found])


@router.get("/me/network", response_model=Page[NetworkView])
async def my_network(user: CurrentUser, db: Db, depth: int = Query(default=7, ge=1, le=20)) -> Page[NetworkView]:
    found = await affiliate.partners_of_user(db, user.id)
    if not found:
        raise Problem(404, "not_found", "you are not a partner in any project")
    return Page[NetworkView](
        data=[
            NetworkView(partner_id=p.id, members=[partner_view(m) for m in await affiliate.network(db, p.id, depth)])
            for p in found
        ]
    )


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


class PayoutDestination(RequestBody):
    destination: str = Field(min_length=3, max_length=200, description="the payment provider's token for an account")


@router.put("/me/payout-destination", response_model=PayoutDestination)
async def set_payout_destination(body: PayoutDestination, user: CurrentUser, db: Db) -> PayoutDestination:
    """Where commissions are paid when a project pays out at its periods' close."""
    if not await affiliate.set_payout_destination(db, user.id, body.destination):
        raise Problem(404, "not_found", "you are not a partner in any project")
    return body
