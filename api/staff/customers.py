"""`GET /v1/staff/customers/{id}`: a borrower's credit history with us in one place — applications and what the
checks found, loans, and the messages we sent (without their bodies)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from api.applications.schemas import CheckView, StaffApplicationView
from api.applications.views import staff_application_view
from api.dependencies import Db, StaffAudit, StaffWith
from api.problems import Problem
from store.repositories import applications, credit_checks, loans, messages

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


class CustomerView(BaseModel):
    id: uuid.UUID
    created_at: datetime
    applications: list[StaffApplicationView]
    checks: list[CheckView]
    loans: list[LoanSummary]
    messages: list[MessageSummary]
    history: dict[str, Any]


@router.get("/{user_id}", response_model=CustomerView)
async def customer(
    user_id: uuid.UUID, _: StaffWith("underwriter", "collector", "support"), db: Db, audit: StaffAudit
) -> CustomerView:
    user = (
        await db.execute(text("SELECT id, phone_lookup, created_at FROM users WHERE id = :id"), {"id": user_id})
    ).one_or_none()
    if user is None:
        raise Problem(404, "not_found", "no such customer")
    history = await loans.history(db, user_id)
    view = CustomerView(
        id=user.id,
        created_at=user.created_at,
        applications=[staff_application_view(a) for a in await applications.for_user(db, user_id)],
        checks=[
            CheckView(
                kind=c.kind,
                provider=c.provider,
                reference=c.reference,
                status=c.status,
                summary=c.summary,
                created_at=c.created_at,
                received_at=c.received_at,
            )
            for c in await credit_checks.checks_for_user(db, user_id)
        ],
        loans=[
            LoanSummary(
                id=x.id,
                status=x.status,
                principal=x.principal,
                currency=x.currency,
                start_date=x.start_date,
                due_date=x.due_date,
            )
            for x in await loans.loans_for_user(db, user_id)
        ],
        messages=[MessageSummary.model_validate(m) for m in await messages.messages_to(db, user.phone_lookup)],
        history={"repaid_loans": history.repaid, "open_loans": history.open, "overdue_loans": history.overdue},
    )
    # Reading a customer's personal file is an action worth recording too.
    await audit.record("customer.view", target_type="user", target_id=str(user_id))
    await db.commit()
    return view
