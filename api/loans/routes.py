"""`GET /v1/loans` and `GET /v1/loans/{id}`: a borrower's loans with what is owed on each, read from the ledger
(a loan's balances are the balances of its receivable accounts; nothing else stores them)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.dependencies import CurrentUser, Db
from api.problems import Problem
from store import ledger
from store.repositories import loans, servicing

router = APIRouter(prefix="/v1/loans", tags=["loans"])

COMPONENTS = ("principal", "interest", "penalty", "fees", "fines")


class Balances(BaseModel):
    """What is owed, per component: `fees` are the origination and extension fees, `fines` the default fees charged
    for late payment (kept apart: regulators cap them separately)."""

    principal: int
    interest: int
    penalty: int
    fees: int
    fines: int
    total: int


class HistoryLine(BaseModel):
    kind: str
    value_date: date
    recorded_at: datetime
    owed: dict[str, int]


class LoanView(BaseModel):
    id: uuid.UUID
    application_id: uuid.UUID
    status: str
    currency: str
    principal: int
    origination_fee: int
    start_date: date
    due_date: date
    balances: Balances
    extensions: int
    history: list[HistoryLine]
    schedule: list[Instalment] = Field(
        default_factory=list, description="the agreed instalments (`GET /v1/loans/{id}` only), as signed"
    )
    extension_days: list[int] = Field(
        default_factory=list,
        description="the extensions the agreement offers, in days (`GET .../extension-quote?days=`)",
    )


class Instalment(BaseModel):
    due_date: date
    principal: int
    interest: int
    fees: int
    total: int


class LoanList(BaseModel):
    data: list[LoanView]
    has_more: bool = False


async def _view(db: Db, loan: loans.Loan, *, with_history: bool) -> LoanView:
    receivable = {name: int(account) for name, account in loan.accounts["receivable"].items()}
    found = await ledger.balances(db, list(receivable.values()))
    owed = {name: -found[account].balance for name, account in receivable.items()}
    history = await loans.loan_entries(db, receivable) if with_history else []
    return LoanView(
        id=loan.id,
        application_id=loan.application_id,
        status=loan.status,
        currency=loan.currency,
        principal=loan.principal,
        origination_fee=loan.origination_fee,
        start_date=loan.start_date,
        due_date=loan.due_date,
        balances=Balances(
            principal=owed["principal"],
            interest=owed["interest"],
            penalty=owed["penalty"],
            fees=owed["fees"],
            fines=owed["fines"],
            total=sum(owed[c] for c in COMPONENTS),
        ),
        extensions=sum(1 for line in history if line.kind == "loan_extension"),
        history=[
            HistoryLine(kind=h.kind, value_date=h.value_date, recorded_at=h.recorded_at, owed=h.owed) for h in history
        ],
    )


@router.get("", response_model=LoanList)
async def my_loans(user: CurrentUser, db: Db) -> LoanList:
    return LoanList(
        data=[await _view(db, loan, with_history=False) for loan in await loans.loans_for_user(db, user.id)]
    )


@router.get("/{loan_id}", response_model=LoanView)
async def my_loan(loan_id: uuid.UUID, user: CurrentUser, db: Db) -> LoanView:
    loan = await loans.loan(db, loan_id)
    if loan is None or loan.user_id != user.id:
        raise Problem(404, "not_found", "no such loan")
    view = await _view(db, loan, with_history=True)
    serviced = await servicing.serviced_loan(db, loan_id)
    if serviced is not None:
        signed = servicing.signed_loan(serviced)
        view.schedule = [
            Instalment(due_date=i.due_date, principal=i.principal, interest=i.interest, fees=i.fees, total=i.total)
            for i in signed.schedule
        ]
        view.extension_days = list(signed.terms.extension_days)
    return view
