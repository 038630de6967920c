"""Collections for staff: the queue (`GET /v1/staff/collections`), contacts and promises to pay, and the ladder
each product's overdue loans follow (`PUT/GET /v1/staff/products/{id}/collection-ladder`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.constrained import RequestBody
from api.dependencies import Db, Resources, StaffAudit, StaffWith
from api.idempotency import Idempotency
from api.pages import Page
from api.problems import Problem
from domain.lending.collections import DEFAULT_LADDER, Action, LadderInvalid, ladder_from_stored, ladder_to_stored
from services.promises import PromiseRefused, make_promise
from store.repositories import collections, servicing
from store.repositories import products as product_store
from store.repositories.identity import staff_member

router = APIRouter(prefix="/v1/staff", tags=["staff: collections"])


class QueueLine(BaseModel):
    loan_id: uuid.UUID
    user_id: uuid.UUID
    currency: str
    owed: int
    days_past_due: int
    overdue_since: date | None
    collector_id: uuid.UUID | None
    escalated: bool | None
    handed_over_to: str | None
    failed_debits: int | None
    last_decline: str | None
    steps_done: list[str] | None
    promise: dict[str, Any] | None


class Queue(BaseModel):
    business_date: date
    data: list[QueueLine]
    has_more: bool


@router.get("/collections", response_model=Queue)
async def queue(
    staff: StaffWith("collector"),
    db: Db,
    resources: Resources,
    mine: bool = False,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> Queue:
    """Overdue loans, most days past due first, then the largest amount; `mine=true`: the caller's own."""
    today = await servicing.open_business_date(db, resources.settings.market_timezone)
    rows = await collections.queue(db, today, staff.id if mine else None, limit + 1, offset)
    lines = [QueueLine(**{**r, "currency": r["currency"].strip()}) for r in rows[:limit]]
    return Queue(business_date=today, data=lines, has_more=len(rows) > limit)


class PromiseRequest(RequestBody):
    date: date
    amount: int = Field(gt=0, le=10**12)


class PromiseView(BaseModel):
    id: int
    loan_id: uuid.UUID
    date: date
    amount: int
    status: str


@router.post("/collections/{loan_id}/promise", response_model=PromiseView, status_code=201)
async def promise(
    loan_id: uuid.UUID,
    body: PromiseRequest,
    staff: StaffWith("collector"),
    db: Db,
    resources: Resources,
    audit: StaffAudit,
    idem: Idempotency,
) -> JSONResponse:
    """The ladder pauses until the promised date; close of business on that date checks it, and a broken promise
    resumes the ladder where it stood."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    try:
        made = await make_promise(
            db, resources.settings.market_timezone, loan_id, body.date, body.amount, staff_id=staff.id
        )
    except PromiseRefused as refused:
        raise Problem(refused.status, refused.code, refused.detail) from None
    await audit.record(
        "collections.promise",
        target_type="loan",
        target_id=str(loan_id),
        details={"date": body.date.isoformat(), "amount": body.amount},
    )
    return await idem.answer(
        201, PromiseView(id=made.id, loan_id=loan_id, date=body.date, amount=body.amount, status="open")
    )


class AssignmentRequest(RequestBody):
    collector_id: uuid.UUID | None = Field(description="the collector who works the loan; null: back to the pool")


class AssignmentView(BaseModel):
    loan_id: uuid.UUID
    collector_id: uuid.UUID | None


@router.post("/collections/{loan_id}/assignment", response_model=AssignmentView)
async def assign(
    loan_id: uuid.UUID, body: AssignmentRequest, staff: StaffWith("collector"), db: Db, audit: StaffAudit
) -> AssignmentView:
    """A collector takes a loan (or hands it back); an admin assigns it to any active collector."""
    if not staff.has_any_role("admin") and body.collector_id not in (staff.id, None):
        raise Problem(403, "forbidden", "a collector assigns loans to themselves only")
    if await servicing.serviced_loan(db, loan_id) is None:
        raise Problem(404, "not_found", "no such loan")
    if body.collector_id is not None:
        member = await staff_member(db, body.collector_id)
        if member is None or not member.active or not {"collector", "admin"} & set(member.roles):
            raise Problem(422, "validation_error", "the assignee is not an active collector")
    await collections.assign(db, loan_id, body.collector_id)
    await audit.record(
        "collections.assign",
        target_type="loan",
        target_id=str(loan_id),
        details={"collector_id": str(body.collector_id) if body.collector_id else None},
    )
    return AssignmentView(loan_id=loan_id, collector_id=body.collector_id)


class ContactRequest(RequestBody):
    channel: Literal["call", "sms", "email", "visit", "letter"]
    outcome: Literal["reached", "no_answer", "wrong_number", "refused", "promised", "disputed"]
    note: str | None = Field(default=None, max_length=2000)


class ContactView(BaseModel):
    id: int
    staff_id: uuid.UUID | None
    channel: str
    outcome: str
    note: str | None
    created_at: datetime


@router.post("/collections/{loan_id}/contacts", response_model=ContactView, status_code=201)
async def contact(
    loan_id: uuid.UUID,
    body: ContactRequest,
    staff: StaffWith("collector"),
    db: Db,
    audit: StaffAudit,
    idem: Idempotency,
) -> JSONResponse:
    if (replayed := await idem.replay()) is not None:
        return replayed
    if await servicing.serviced_loan(db, loan_id) is None:
        raise Problem(404, "not_found", "no such loan")
    contact_id = await collections.add_contact(db, loan_id, staff.id, body.channel, body.outcome, body.note)
    await audit.record(
        "collections.contact",
        target_type="loan",
        target_id=str(loan_id),
        details={"channel": body.channel, "outcome": body.outcome},
    )
    found = next(c for c in await collections.contacts(db, loan_id) if c["id"] == contact_id)
    return await idem.answer(201, ContactView(**found))


@router.get("/collections/{loan_id}/contacts", response_model=Page[ContactView])
async def contacts(loan_id: uuid.UUID, _: StaffWith("collector"), db: Db) -> Page[ContactView]:
    return Page[ContactView](data=[ContactView(**c) for c in await collections.contacts(db, loan_id)])


class LadderStepBody(RequestBody):
    day: int = Field(ge=1, le=3650)
    action: Action
    share: str | None = Field(default=None, pattern=r"^(0(\.\d+)?|1(\.0+)?)$")
    agency: str | None = Field(default=None, max_length=200)


class LadderBody(RequestBody):
    steps: list[LadderStepBody] = Field(min_length=1, max_length=100)


class LadderView(BaseModel):
    product_id: uuid.UUID
    steps: list[dict[str, Any]]
    default: bool


@router.put("/products/{product_id}/collection-ladder", response_model=LadderView)
async def set_ladder(
    product_id: uuid.UUID, body: LadderBody, staff: StaffWith(), db: Db, audit: StaffAudit
) -> LadderView:
    """A new version of the product's ladder; overdue loans follow it from their next step."""
    if await product_store.product(db, product_id) is None:
        raise Problem(404, "not_found", "no such product")
    try:
        ladder = ladder_from_stored([s.model_dump(exclude_none=True) for s in body.steps])
    except LadderInvalid as invalid:
        raise Problem(422, "validation_error", str(invalid)) from None
    stored = ladder_to_stored(ladder)
    await collections.put_ladder(db, product_id, stored, staff.id)
    await audit.record(
        "product.collection_ladder", target_type="product", target_id=str(product_id), details={"steps": stored}
    )
    return LadderView(product_id=product_id, steps=stored, default=False)


@router.get("/products/{product_id}/collection-ladder", response_model=LadderView)
async def read_ladder(product_id: uuid.UUID, _: StaffWith("collector"), db: Db) -> LadderView:
    stored = await collections.ladder(db, product_id)
    if stored is None:
        return LadderView(product_id=product_id, steps=ladder_to_stored(DEFAULT_LADDER), default=True)
    return LadderView(product_id=product_id, steps=stored, default=False)
