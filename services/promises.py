"""A promise to pay on an overdue loan, made by the borrower on their own pages or taken by a collector on the
phone: the collection ladder pauses until the promised date, and close of business on that date checks it (a
broken promise resumes the ladder where it stood). One rule for both, so a borrower cannot promise what a
collector could not accept."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories import collections, servicing

BORROWER_HORIZON_DAYS = 30  # a borrower may promise at most this far ahead; a collector agrees longer plans


class PromiseRefused(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


@dataclass(frozen=True)
class PromiseMade:
    id: int
    loan_id: uuid.UUID
    date: date
    amount: int


async def make_promise(
    session: AsyncSession,
    market_timezone: str,
    loan_id: uuid.UUID,
    promised_date: date,
    amount: int,
    *,
    staff_id: uuid.UUID | None,
    borrower_id: uuid.UUID | None = None,
) -> PromiseMade:
    loan = await servicing.serviced_loan(session, loan_id)
    if loan is None or (borrower_id is not None and loan.user_id != borrower_id):
        raise PromiseRefused(404, "not_found", "no such loan")
    if loan.status != "overdue":
        raise PromiseRefused(409, "conflict", f"the loan is {loan.status}, not overdue")
    today = await servicing.open_business_date(session, market_timezone)
    if promised_date < today:
        raise PromiseRefused(422, "validation_error", "the promised date is in the past")
    if staff_id is None and promised_date > today + timedelta(days=BORROWER_HORIZON_DAYS):
        raise PromiseRefused(
            422, "validation_error", f"a promise can be at most {BORROWER_HORIZON_DAYS} days ahead; call us for a plan"
        )
    paid = await collections.total_paid(session, loan_id)
    promise_id = await collections.add_promise(session, loan_id, promised_date, amount, paid, staff_id)
    return PromiseMade(promise_id, loan_id, promised_date, amount)
