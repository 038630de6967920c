"""`GET /v1/staff/customers/{id}`: a borrower's credit history with us in one place — applications and what the
checks found, loans, and the messages we sent (without their bodies)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.applications.schemas import CheckView, StaffApplicationView
from api.applications.views import check_view, staff_application_view
from api.dependencies import Db, Resources, StaffAudit, StaffWith
from api.problems import Problem
from services.customers import customer_file, find_customers

router = APIRouter(prefix="/v1/staff/customers", tags=["staff: customers"])


class LoanSummary(BaseModel):
    id: uuid.UUID
    status: str
    principal: int
    currency: str
    start_date: date
    due_date: date


class MessageSummary(BaseModel):
    channel: str
    purpose: str
    status: str
    created_at: datetime


class WalletLine(BaseModel):
    id: uuid.UUID
    type: str
    currency: str
    balance: int
    available: int


class CustomerView(BaseModel):
    id: uuid.UUID
    created_at: datetime
    applications: list[StaffApplicationView]
    checks: list[CheckView]
    loans: list[LoanSummary]
    messages: list[MessageSummary]
    history: dict[str, Any]
    wallets: list[WalletLine] = []
    contacts: list[dict[str, Any]] = []
    promises: list[dict[str, Any]] = []


class CustomerLineView(BaseModel):
    id: uuid.UUID
    created_at: datetime
    applications: int
    loans: int
    open_loans: int


class CustomerSearch(BaseModel):
    data: list[CustomerLineView]


@router.get("", response_model=CustomerSearch)
async def search(
    _: StaffWith("underwriter", "collector", "support"),
    db: Db,
    resources: Resources,
    audit: StaffAudit,
    q: str = Query(min_length=1, max_length=200, description="a customer id, a phone number or a full name (exact)"),
) -> CustomerSearch:
    found = await find_customers(db, resources.cipher, q)
    # Looking someone up by their personal data is recorded; the query itself is not kept in clear.
    await audit.record("customer.search", target_type="user", details={"matches": len(found)})
    await db.commit()
    return CustomerSearch(data=[CustomerLineView(**vars(line)) for line in found])


@router.get("/{user_id}", response_model=CustomerView)
async def customer(
    user_id: uuid.UUID, _: StaffWith("underwriter", "collector", "support"), db: Db, audit: StaffAudit
) -> CustomerView:
    found = await customer_file(db, user_id)
    if found is None:
        raise Problem(404, "not_found", "no such customer")
    view = CustomerView(
        id=found.id,
        created_at=found.created_at,
        applications=[staff_application_view(a) for a in found.applications],
        checks=[check_view(c) for c in found.checks],
        loans=[
            LoanSummary(
                id=x.id,
                status=x.status,
                principal=x.principal,
                currency=x.currency,
                start_date=x.start_date,
                due_date=x.due_date,
            )
            for x in found.loans
        ],
        messages=[MessageSummary.model_validate(m) for m in found.messages],
        wallets=[
            WalletLine(id=w.id, type=w.type_code, currency=w.currency, balance=w.balance, available=w.available)
            for w in found.wallets
        ],
        contacts=found.contacts,
        promises=found.promises,
        history={
            "repaid_loans": found.history.repaid,
            "open_loans": found.history.open,
            "overdue_loans": found.history.overdue,
        },
    )
    # Reading a customer's personal file is an action worth recording too.
    await audit.record("customer.view", target_type="user", target_id=str(user_id))
    await db.commit()
    return view
