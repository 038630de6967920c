"""`GET /v1/staff/loans/{id}`: one loan as staff need it on one page: its schedule, what the engine says it owes
today, the balances its accounts hold in the ledger (the two agree; if they did not, close of business would post
the difference), its events, payments and every journal entry that touched it."""

from __future__ import annotations

import uuid
from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel

from api.dependencies import Db, Resources, StaffWith
from api.loans.payments import PaymentView, payment_view
from api.problems import Problem
from api.staff.ledger import EntryView, entry_view
from domain.lending.engine import Component, state_as_of
from store import ledger
from store.repositories import journal, loan_payments, servicing

router = APIRouter(prefix="/v1/staff/loans", tags=["staff: loans"])

ENTRIES_SHOWN = 500


class InstalmentLine(BaseModel):
    due_date: date
    principal: int
    interest: int
    fees: int
    total: int


class ComponentFigures(BaseModel):
    """Per component: principal, interest, penalty, fees (origination, extension), fines (default fees)."""

    principal: int
    interest: int
    penalty: int
    fees: int
    fines: int
    total: int


class EngineView(BaseModel):
    as_of: date
    status: str
    days_past_due: int
    next_due_date: date | None
    next_due_amount: int
    accrued: ComponentFigures
    paid: ComponentFigures
    waived: ComponentFigures
    outstanding: ComponentFigures


class EventLine(BaseModel):
    id: int
    kind: str
    value_date: date
    amount: int | None
    days: int | None
    component: str | None
    rate: str | None
    reference: str
    entry_id: int | None
    actor_id: uuid.UUID | None
    reason: str | None


class StaffLoanView(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    product_id: uuid.UUID
    currency: str
    principal: int
    term_days: int
    start_date: date
    due_date: date
    status: str
    overdue_since: date | None
    extensions: int
    collector_id: uuid.UUID | None
    schedule: list[InstalmentLine]
    engine: EngineView
    ledger_balances: ComponentFigures
    accounts: dict[str, dict[str, int]]
    events: list[EventLine]
    payments: list[PaymentView]
    entries: list[EntryView]
    entries_truncated: bool


def figures(values: dict[str, int]) -> ComponentFigures:
    parts = {c.value: int(values.get(c.value, 0)) for c in Component}
    return ComponentFigures(**parts, total=sum(parts.values()))


@router.get("/{loan_id}", response_model=StaffLoanView)
async def staff_loan(
    loan_id: uuid.UUID,
    _: StaffWith("accountant", "collector", "underwriter", "support"),
    db: Db,
    resources: Resources,
) -> StaffLoanView:
    loan = await servicing.serviced_loan(db, loan_id)
    if loan is None:
        raise Problem(404, "not_found", "no such loan")
    signed = servicing.signed_loan(loan)
    rows = await servicing.loan_events(db, loan.id)
    today = await servicing.open_business_date(db, resources.settings.market_timezone)
    state = state_as_of(signed, servicing.engine_events(rows), max(today, loan.start_date))
    receivable = {name: int(account) for name, account in loan.accounts["receivable"].items()}
    held = await ledger.balances(db, list(receivable.values()))
    accounts = await journal.account_ids(db, code_prefix=f"loan:{loan.id}:")
    entries = await journal.entries(
        db, accounts=accounts, kind=None, value_from=None, value_to=None, starting_after=None, limit=ENTRIES_SHOWN + 1
    )
    return StaffLoanView(
        id=loan.id,
        user_id=loan.user_id,
        product_id=loan.product_id,
        currency=loan.currency,
        principal=loan.principal,
        term_days=loan.term_days,
        start_date=loan.start_date,
        due_date=loan.due_date,
        status=loan.status,
        overdue_since=loan.overdue_since,
        extensions=loan.extensions,
        collector_id=loan.collector_id,
        schedule=[
            InstalmentLine(due_date=i.due_date, principal=i.principal, interest=i.interest, fees=i.fees, total=i.total)
            for i in signed.schedule
        ],
        engine=EngineView(
            as_of=state.as_of,
            status=state.status,
            days_past_due=state.days_past_due,
            next_due_date=state.next_due_date,
            next_due_amount=state.next_due_amount,
            accrued=figures({c.value: v for c, v in state.accrued.items()}),
            paid=figures({c.value: v for c, v in state.paid.items()}),
            waived=figures({c.value: v for c, v in state.waived.items()}),
            outstanding=figures({c.value: v for c, v in state.outstanding.items()}),
        ),
        ledger_balances=figures({name: -held[account].balance for name, account in receivable.items()}),
        accounts={
            group: {name: int(a) for name, a in found.items()}
            for group, found in loan.accounts.items()
            if isinstance(found, dict)
        },
        events=[
            EventLine(
                id=r.id,
                kind=r.kind,
                value_date=r.value_date,
                amount=r.amount,
                days=r.days,
                component=r.component,
                rate=None if r.daily_rate is None else format(r.daily_rate, "f"),
                reference=r.reference,
                entry_id=r.entry_id,
                actor_id=r.actor_id,
                reason=r.reason,
            )
            for r in rows
        ],
        payments=[payment_view(p) for p in await loan_payments.payments_of(db, loan.id)],
        entries=[entry_view(e) for e in entries[:ENTRIES_SHOWN]],
        entries_truncated=len(entries) > ENTRIES_SHOWN,
    )
