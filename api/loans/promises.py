"""`POST /v1/loans/{id}/promises`: the borrower's own promise to pay an overdue loan by a date (collections pause
until then). The same rule as a collector's promise (services/promises.py), with a shorter horizon."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.constrained import RequestBody
from api.dependencies import CurrentUser, Db, Resources, UserAudit
from api.idempotency import Idempotency
from api.problems import Problem
from services.promises import PromiseRefused, make_promise

router = APIRouter(prefix="/v1/loans", tags=["loans"])


class BorrowerPromise(RequestBody):
    date: date
    amount: int = Field(gt=0, le=10**12, description="minor units of the loan's currency")


class BorrowerPromiseView(BaseModel):
    id: int
    loan_id: uuid.UUID
    date: date
    amount: int
    status: str


@router.post("/{loan_id}/promises", status_code=201, response_model=BorrowerPromiseView)
async def promise_to_pay(
    loan_id: uuid.UUID,
    body: BorrowerPromise,
    user: CurrentUser,
    db: Db,
    resources: Resources,
    audit: UserAudit,
    idem: Idempotency,
) -> JSONResponse:
    if (replayed := await idem.replay()) is not None:
        return replayed
    try:
        made = await make_promise(
            db, resources.settings.market_timezone, loan_id, body.date, body.amount, staff_id=None, borrower_id=user.id
        )
    except PromiseRefused as refused:
        raise Problem(refused.status, refused.code, refused.detail) from None
    await audit.record(
        "collections.promise",
        target_type="loan",
        target_id=str(loan_id),
        details={"date": body.date.isoformat(), "amount": body.amount, "by": "borrower"},
    )
    view = BorrowerPromiseView(id=made.id, loan_id=loan_id, date=made.date, amount=made.amount, status="open")
    return await idem.answer(201, view)
