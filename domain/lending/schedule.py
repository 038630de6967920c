"""Repayment schedules and quotes. A quote is computed by the same rules as the loan engine (interest accrues per
day on the principal outstanding, accrued to date is rounded once), so the borrower's quote is the loan they get."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from domain.lending.calendar import add_months
from domain.lending.products import (
    Frequency,
    ProductTerms,
    RepaymentKind,
    check_request,
    daily_rate_within_cap,
    origination_fee,
    total_cost_room,
)


@dataclass(frozen=True)
class Instalment:
    due_date: date
    principal: int
    interest: int
    fees: int

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fees


@dataclass(frozen=True)
class Quote:
    principal: int
    currency: str
    start: date
    term_days: int
    interest: int
    fees: int
    total_due: int
    due_date: date
    daily_rate: Decimal
    apr: Decimal
    schedule: tuple[Instalment, ...]


def rounded(value: Decimal) -> int:
    """The one rounding of accrued amounts: half-even to a whole minor unit."""
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


def due_dates(terms: ProductTerms, start: date, term_days: int) -> list[date]:
    if terms.repayment is RepaymentKind.SINGLE:
        return [start + timedelta(days=term_days)]
    end = start + timedelta(days=term_days)
    dates: list[date] = []
    n = 1
    while True:
        if terms.frequency is Frequency.MONTHLY:
            due = add_months(start, n)
        else:
            due = start + timedelta(days=(7 if terms.frequency is Frequency.WEEKLY else 14) * n)
        if due >= end:
            break
        dates.append(due)
        n += 1
    dates.append(end)
    return dates


def build_schedule(terms: ProductTerms, principal: int, start: date, term_days: int) -> tuple[Instalment, ...]:
    """The instalments of a loan repaid on time, charged exactly as the engine charges it: the origination fee at
    start and interest accruing nightly at the daily rate (as the daily cost cap lets it), both within the total
    cost cap (`total_cost_room`). Past the point where the cap binds, instalments carry no more interest."""
    dates = due_dates(terms, start, term_days)
    fee = origination_fee(terms, principal)
    room = total_cost_room(terms.caps, principal, Decimal(0))
    if room is not None:
        fee = int(min(Decimal(fee), room))
        room -= fee
    rate = daily_rate_within_cap(terms)
    n = len(dates)
    # Principal parts: all at the end (single), equal (declining balance), or those that make equal payments
    # (annuity). Interest of each period is the cumulative accrual along this principal path, capped and rounded
    # once, minus what earlier periods took.
    if terms.repayment is RepaymentKind.SINGLE:
        parts = [principal]
    elif terms.repayment is RepaymentKind.DECLINING:
        base = principal // n
        parts = [base] * (n - 1) + [principal - base * (n - 1)]
    else:
        parts = _annuity_principal_parts(principal, rate, start, dates)
    instalments = []
    outstanding, cumulative, taken, previous = principal, Decimal(0), 0, start
    for k, (due, part) in enumerate(zip(dates, parts, strict=True)):
        cumulative += Decimal(outstanding) * rate * (due - previous).days
        interest = rounded(cumulative if room is None else min(cumulative, room)) - taken
        taken += interest
        instalments.append(Instalment(due, part, interest, fee if k == 0 else 0))
        outstanding -= part
        previous = due
    return tuple(instalments)


def _annuity_principal_parts(principal: int, rate: Decimal, start: date, dates: list[date]) -> list[int]:
    """Principal parts of an annuity: the payment solves the schedule exactly with the actual day counts."""
    periods = [(due - prev).days for prev, due in zip([start, *dates[:-1]], dates, strict=True)]
    # The payment A makes the outstanding balance zero after the last period: P * prod(g) = A * sum(prod of later g).
    growth = [1 + rate * days for days in periods]
    product = Decimal(1)
    for g in growth:
        product *= g
    later = Decimal(0)
    running = Decimal(1)
    for g in reversed(growth):
        later += running
        running *= g
    payment = int((Decimal(principal) * product / later).to_integral_value(rounding=ROUND_HALF_UP))
    parts, outstanding, cumulative, taken = [], principal, Decimal(0), 0
    for days in periods[:-1]:
        cumulative += Decimal(outstanding) * rate * days
        interest = rounded(cumulative) - taken
        taken += interest
        part = max(0, min(outstanding, payment - interest))
        parts.append(part)
        outstanding -= part
    parts.append(outstanding)
    return parts


def apr(principal: int, start: date, payments: list[tuple[date, int]]) -> Decimal:
    """Annual percentage rate of charge: the yearly rate i that makes the payments, discounted at (1+i)^(days/365),
    worth the principal (the EU/UK consumer-credit definition). Found by bisection; four decimals."""

    def present_value(i: float) -> float:
        return float(sum(amount / (1 + i) ** ((due - start).days / 365) for due, amount in payments))

    low, high = 0.0, 1.0
    while present_value(high) > principal and high < 1e12:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if present_value(mid) > principal:
            low = mid
        else:
            high = mid
    return Decimal(str(round((low + high) / 2 * 100, 2)))


def quote(terms: ProductTerms, principal: int, term_days: int, start: date) -> Quote:
    check_request(terms, principal, term_days)
    schedule = build_schedule(terms, principal, start, term_days)
    interest = sum(i.interest for i in schedule)
    fees = sum(i.fees for i in schedule)
    return Quote(
        principal=principal, currency=terms.currency, start=start, term_days=term_days, interest=interest, fees=fees,
        total_due=principal + interest + fees, due_date=schedule[-1].due_date, daily_rate=terms.daily_rate,
        apr=apr(principal, start, [(i.due_date, i.total) for i in schedule]), schedule=schedule,
    )  # fmt: skip
