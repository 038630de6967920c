"""Repayment schedules and quotes. A quote is computed by the same rules as the loan engine (interest accrues per
day on the principal outstanding, accrued to date is rounded once), so the borrower's quote is the loan they get."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from domain.lending.calendar import add_months
from domain.lending.interest import InterestRate
from domain.lending.products import (
    Frequency,
    InterestRounding,
    ProductInvalid,
    ProductTerms,
    RepaymentKind,
    check_request,
    interest_factor,
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
    interest_rate: InterestRate
    apr: Decimal
    schedule: tuple[Instalment, ...]


def rounded(value: Decimal) -> int:
    """The one rounding of accrued amounts: half-even to a whole minor unit."""
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


def _regular_due(terms: ProductTerms, anchor: date, n: int) -> date:
    """The n-th regular due date counted from `anchor` (n = 0 is the anchor itself)."""
    if terms.frequency is Frequency.MONTHLY:
        return add_months(anchor, n)
    return anchor + timedelta(days=(7 if terms.frequency is Frequency.WEEKLY else 14) * n)


def due_dates(terms: ProductTerms, start: date, term_days: int, first_due: date | None = None) -> list[date]:
    """Instalment due dates: one frequency apart from `first_due` (by default one frequency after `start`), the
    last on the term's end. A single-payment loan has one, at the end."""
    end = start + timedelta(days=term_days)
    if terms.repayment is RepaymentKind.SINGLE:
        return [end]
    anchor, offset = (first_due, 0) if first_due is not None else (start, 1)
    dates: list[date] = []
    n = offset
    while (due := _regular_due(terms, anchor, n)) < end:
        dates.append(due)
        n += 1
    dates.append(end)
    return dates


def term_days_for(terms: ProductTerms, start: date, periods: int, first_due: date | None = None) -> int:
    """The term in days of `periods` instalments (a lender may state a term either way)."""
    if terms.repayment is RepaymentKind.SINGLE or terms.frequency is None:
        raise ProductInvalid(["a single-payment loan's term is stated in days"])
    anchor, offset = (first_due, 0) if first_due is not None else (start, 1)
    return (_regular_due(terms, anchor, periods - 1 + offset) - start).days


def build_schedule(
    terms: ProductTerms, principal: int, start: date, term_days: int, first_due: date | None = None
) -> tuple[Instalment, ...]:
    """The instalments of a loan repaid on time, charged exactly as the engine charges it: the origination fee at
    start and interest accruing nightly by the product's rate and day count (as the daily cost cap lets it), both
    within the total cost cap (`total_cost_room`), rounded as the product says (once over the loan, or per
    instalment). Past the point where the cap binds, instalments carry no more interest."""
    dates = due_dates(terms, start, term_days, first_due)
    fee = origination_fee(terms, principal)
    room = total_cost_room(terms.caps, principal, Decimal(0))
    if room is not None:
        fee = int(min(Decimal(fee), room))
        room -= fee
    factors = [interest_factor(terms, prev, due) for prev, due in zip([start, *dates[:-1]], dates, strict=True)]
    n = len(dates)
    # Principal parts: all at the end (single), equal (declining balance), or those that make equal payments
    # (annuity). Interest of each period follows the engine along this principal path.
    if terms.repayment is RepaymentKind.SINGLE:
        parts = [principal]
    elif terms.repayment is RepaymentKind.DECLINING:
        base = principal // n
        parts = [base] * (n - 1) + [principal - base * (n - 1)]
    else:
        parts = _annuity_principal_parts(terms, principal, factors)
    interests = _period_interest(terms, principal, parts, factors, room)
    return tuple(
        Instalment(due, part, interest, fee if k == 0 else 0)
        for k, (due, part, interest) in enumerate(zip(dates, parts, interests, strict=True))
    )


def _period_interest(
    terms: ProductTerms, principal: int, parts: list[int], factors: list[Decimal], room: Decimal | None
) -> list[int]:
    """Each period's interest on the outstanding principal, capped by the room the total cost cap leaves; rounded
    once cumulatively (what was accrued to the due date, minus what earlier periods took) or per period."""
    per_period = terms.interest_rounding is InterestRounding.PER_PERIOD
    interests: list[int] = []
    outstanding, cumulative, taken = principal, Decimal(0), 0
    for part, factor in zip(parts, factors, strict=True):
        exact = Decimal(outstanding) * factor
        if per_period:
            left = None if room is None else max(Decimal(0), room - taken)
            interest = rounded(exact if left is None else min(exact, left))
        else:
            cumulative += exact
            interest = rounded(cumulative if room is None else min(cumulative, room)) - taken
        interests.append(interest)
        taken += interest
        outstanding -= part
    return interests


def annuity_payment(principal: int, factors: list[Decimal]) -> int:
    """The equal instalment (EMI) that repays `principal` over periods with these interest factors (each period's
    own day count), rounded half-up to a minor unit."""
    # The payment A makes the outstanding balance zero after the last period: P * prod(g) = A * sum(prod of later g).
    growth = [1 + factor for factor in factors]
    product = Decimal(1)
    for g in growth:
        product *= g
    later = Decimal(0)
    running = Decimal(1)
    for g in reversed(growth):
        later += running
        running *= g
    return int((Decimal(principal) * product / later).to_integral_value(rounding=ROUND_HALF_UP))


def _annuity_principal_parts(terms: ProductTerms, principal: int, factors: list[Decimal]) -> list[int]:
    """Principal parts of an annuity: the EMI less each period's interest; the last part takes what is left."""
    payment = annuity_payment(principal, factors)
    parts, outstanding = [], principal
    cumulative, taken = Decimal(0), 0
    per_period = terms.interest_rounding is InterestRounding.PER_PERIOD
    for factor in factors[:-1]:
        exact = Decimal(outstanding) * factor
        if per_period:
            interest = rounded(exact)
        else:
            cumulative += exact
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


def quote(terms: ProductTerms, principal: int, term_days: int, start: date, first_due: date | None = None) -> Quote:
    """The loan of `principal` over `term_days` disbursed on `start` (first instalment on `first_due`, by default
    one frequency later), as the engine will charge it."""
    check_request(terms, principal, term_days)
    if first_due is not None:
        if terms.repayment is RepaymentKind.SINGLE:
            raise ProductInvalid(["a single-payment loan has no first repayment date apart from its due date"])
        if not start < first_due <= start + timedelta(days=term_days):
            raise ProductInvalid(["the first repayment date must fall after disbursement and within the term"])
    schedule = build_schedule(terms, principal, start, term_days, first_due)
    interest = sum(i.interest for i in schedule)
    fees = sum(i.fees for i in schedule)
    return Quote(
        principal=principal,
        currency=terms.currency,
        start=start,
        term_days=term_days,
        interest=interest,
        fees=fees,
        total_due=principal + interest + fees,
        due_date=schedule[-1].due_date,
        interest_rate=terms.interest_rate,
        apr=apr(principal, start, [(i.due_date, i.total) for i in schedule]),
        schedule=schedule,
    )
