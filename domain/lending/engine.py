"""The loan engine: the state of a loan as of any date, from its signed terms and its events.

Conventions (the same in quotes, so a quote is the loan):
- Interest accrues each night on the principal outstanding: the state as of day D holds the accrual of the days
  from disbursement up to D-1. A payment with value date D counts before D's own accrual.
- Accrued amounts are kept exact (`Decimal`) and rounded once, half-even, when read: what to post on a day is the
  rounded amount accrued to date minus what was posted before, so rounding never drifts.
- A payment is allocated by the waterfall (default: fines, penalty, fees, interest, principal); principal may be
  paid early, which lowers future interest; what is left over is reported as overpayment, never swallowed.
- Days past due count from the oldest due date whose scheduled amount is not covered by payments. Penalties and
  fines start after the grace days.
- Caps (products.Caps) bound what accrues: the daily cap bounds interest plus penalty per day against the principal
  outstanding; the total cost cap stops all accrual and charges once reached; the default-fee cap bounds fines; the
  penalty caps bound penalties per delay and in total.
The engine steps from breakpoint to breakpoint (events, due dates, grace ends, fine days), not day by day: between
two of them everything that drives accrual is constant.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from domain.lending.interest import InterestRate
from domain.lending.products import AfterDue, InterestRounding, ProductTerms, total_cost_room
from domain.lending.schedule import Instalment, rounded

ZERO = Decimal(0)
# The finest part of a minor unit a night's interest is kept to (far below any rounding that reaches a ledger).
NIGHT_QUANTUM = Decimal("1e-12")


class Component(StrEnum):
    FINES = "fines"
    PENALTY = "penalty"
    FEES = "fees"
    INTEREST = "interest"
    PRINCIPAL = "principal"


DEFAULT_WATERFALL = (Component.FINES, Component.PENALTY, Component.FEES, Component.INTEREST, Component.PRINCIPAL)
CHARGES = (Component.FINES, Component.PENALTY, Component.FEES, Component.INTEREST)
# What grows by itself each night (fees come only with events: the origination fee, an extension).
ACCRUING = (Component.INTEREST, Component.PENALTY, Component.FINES)


class LoanRuleViolation(ValueError):
    """An event the terms do not allow (an extension too many, before interest is paid, ...)."""


@dataclass(frozen=True)
class Repayment:
    value_date: date
    amount: int
    seq: int = 0


@dataclass(frozen=True)
class Extension:
    value_date: date
    days: int
    seq: int = 0


@dataclass(frozen=True)
class FeeCharge:
    value_date: date
    amount: int
    seq: int = 0


@dataclass(frozen=True)
class Waiver:
    value_date: date
    component: Component
    amount: int
    seq: int = 0


@dataclass(frozen=True)
class WriteOff:
    value_date: date
    seq: int = 0


@dataclass(frozen=True)
class RateChange:
    """A change of the interest rate from `value_date` on (a retroactive term change when dated in the past). `rate`
    is in the unit the product states its rate in (per day, week, month or year, with its day count)."""

    value_date: date
    rate: Decimal
    seq: int = 0


LoanEvent = Repayment | Extension | FeeCharge | Waiver | WriteOff | RateChange


@dataclass(frozen=True)
class SignedLoan:
    """What the borrower signed: the product version's terms, the principal, and the schedule of the quote."""

    terms: ProductTerms
    principal: int
    start: date
    schedule: tuple[Instalment, ...]
    waterfall: tuple[Component, ...] = DEFAULT_WATERFALL


@dataclass(frozen=True)
class Allocation:
    value_date: date
    amount: int
    parts: dict[Component, int]
    overpayment: int


@dataclass(frozen=True)
class LoanState:
    as_of: date
    status: str  # active | overdue | repaid | written_off
    accrued: dict[Component, int]  # charged to date (principal: disbursed), rounded once
    paid: dict[Component, int]
    waived: dict[Component, int]
    outstanding: dict[Component, int]
    days_past_due: int
    due_date: date
    next_due_date: date | None
    next_due_amount: int
    extensions: int
    overpayment: int
    allocations: tuple[Allocation, ...]
    accrued_exact: dict[Component, Decimal] = field(repr=False, default_factory=dict)

    @property
    def total_outstanding(self) -> int:
        return sum(self.outstanding.values())


@dataclass
class _Book:
    """The running state while the engine steps forward; exact amounts for what accrues."""

    principal_out: int
    rate: InterestRate
    interest_exact: Decimal = ZERO  # since the last instalment's rounding (all of it when rounded cumulatively)
    interest_locked: int = 0  # instalment periods' interest, each rounded at its due date (per-period rounding)
    penalty_exact: Decimal = ZERO
    fines: int = 0
    fees: int = 0
    paid: dict[Component, int] = field(default_factory=lambda: dict.fromkeys(Component, 0))
    waived: dict[Component, int] = field(default_factory=lambda: dict.fromkeys(Component, 0))
    allocations: list[Allocation] = field(default_factory=list)
    overpayment: int = 0
    extensions: int = 0
    written_off: bool = False
    fines_applied: set[tuple[date, int]] = field(default_factory=set)
    delay_start: date | None = None
    delay_base: int = 0
    delay_penalty: Decimal = ZERO

    def charged(self, component: Component) -> int:
        if component is Component.INTEREST:
            return self.interest_locked + rounded(self.interest_exact)
        if component is Component.PENALTY:
            return rounded(self.penalty_exact)
        if component is Component.FINES:
            return self.fines
        if component is Component.FEES:
            return self.fees
        raise ValueError(component)

    def outstanding(self, component: Component) -> int:
        if component is Component.PRINCIPAL:
            return self.principal_out
        return self.charged(component) - self.paid[component] - self.waived[component]

    def total_charges_exact(self) -> Decimal:
        return self.interest_locked + self.interest_exact + self.penalty_exact + self.fines + self.fees

    def all_paid(self) -> bool:
        return self.principal_out == 0 and all(self.outstanding(c) <= 0 for c in CHARGES)


def state_as_of(loan: SignedLoan, events: list[LoanEvent] | tuple[LoanEvent, ...], as_of: date) -> LoanState:
    walk = _walk(loan, events, as_of)
    return _state(loan, walk, as_of)


@dataclass
class _Walk:
    """Where the engine stands after stepping to a date: the book, the schedule as extended, and its index."""

    book: _Book
    schedule: list[Instalment]
    due: _ScheduleIndex


def _walk(loan: SignedLoan, events: list[LoanEvent] | tuple[LoanEvent, ...], as_of: date) -> _Walk:
    terms = loan.terms
    book = _Book(principal_out=loan.principal, rate=terms.interest_rate)
    fee_at_start = sum(i.fees for i in loan.schedule[:1])
    book.fees = _within_total_cap(book, loan, fee_at_start)
    schedule = list(loan.schedule)
    # Events dated `as_of` count: a payment on day D is applied before D's own accrual.
    ordered = sorted((e for e in events if e.value_date <= as_of), key=lambda e: (e.value_date, e.seq))
    day = loan.start
    index = 0
    points, due = _breakpoints(schedule, terms), _ScheduleIndex.of(schedule)
    while True:
        while index < len(ordered) and ordered[index].value_date <= day:
            changed = _apply(book, loan, schedule, ordered[index], day)
            if changed is not schedule:  # an extension moved a due date
                schedule, points, due = changed, _breakpoints(changed, terms), _ScheduleIndex.of(changed)
            index += 1
        if day >= as_of:
            break
        candidates = [as_of]
        if index < len(ordered):
            candidates.append(ordered[index].value_date)
        after = bisect_right(points, day)
        if after < len(points):
            candidates.append(points[after])
        next_day = min(candidates)
        _accrue(book, loan, due, day, next_day)
        _apply_fines(book, loan, due, next_day)
        day = next_day
    return _Walk(book, schedule, due)


def _status(book: _Book, dpd: int) -> str:
    return "written_off" if book.written_off else "repaid" if book.all_paid() else "overdue" if dpd > 0 else "active"


def _state(loan: SignedLoan, walk: _Walk, as_of: date) -> LoanState:
    book, schedule = walk.book, walk.schedule
    dpd = _days_past_due(book, walk.due, as_of)
    outstanding = {c: max(0, book.outstanding(c)) for c in Component}
    accrued = {c: book.charged(c) for c in CHARGES} | {Component.PRINCIPAL: loan.principal}
    upcoming = [i for i in schedule if i.due_date >= as_of]
    next_due = upcoming[0].due_date if upcoming else None
    status = _status(book, dpd)
    return LoanState(
        as_of=as_of,
        status=status,
        accrued=accrued,
        paid=dict(book.paid),
        waived=dict(book.waived),
        outstanding=outstanding,
        days_past_due=dpd,
        due_date=schedule[-1].due_date,
        next_due_date=next_due,
        next_due_amount=_next_due_amount(book, schedule, next_due, status),
        extensions=book.extensions,
        overpayment=book.overpayment,
        allocations=tuple(book.allocations),
        accrued_exact={
            Component.INTEREST: book.interest_locked + book.interest_exact,
            Component.PENALTY: book.penalty_exact,
        },
    )


@dataclass(frozen=True)
class ProjectedNight:
    """What the night of `accrual_date` adds if nothing else happens to the loan, and where it leaves it the
    next morning. Close of business posts these increments set-based instead of running the engine per loan."""

    accrual_date: date
    increments: dict[Component, int]  # interest, penalty, fines: rounded cumulative minus the night before's
    status: str  # the morning after
    days_past_due: int
    next_due_date: date | None


def project_nights(
    loan: SignedLoan, events: list[LoanEvent] | tuple[LoanEvent, ...], start: date, nights: int
) -> list[ProjectedNight]:
    """The nights `start`, `start + 1`, ... with no further events: one walk, a day at a time from `start`.
    Stepping a day at a time accrues what the engine accrues over the same span in one step (rates are constant
    between breakpoints and every cap is a running minimum), so the ledger that close of business builds from
    these increments equals `state_as_of` each morning; a property test holds the two together."""
    walk = _walk(loan, events, start)
    book, due = walk.book, walk.due
    due_dates = [i.due_date for i in walk.schedule]
    accrued = {c: book.charged(c) for c in ACCRUING}
    nights_out: list[ProjectedNight] = []
    for offset in range(nights):
        day = start + timedelta(days=offset)
        morning = day + timedelta(days=1)
        _accrue(book, loan, due, day, morning)
        _apply_fines(book, loan, due, morning)
        now = {c: book.charged(c) for c in ACCRUING}
        dpd = _days_past_due(book, due, morning)
        upcoming = bisect_left(due_dates, morning)
        nights_out.append(
            ProjectedNight(
                accrual_date=day,
                increments={c: now[c] - accrued[c] for c in ACCRUING},
                status=_status(book, dpd),
                days_past_due=dpd,
                next_due_date=due_dates[upcoming] if upcoming < len(due_dates) else None,
            )
        )
        accrued = now
    return nights_out


def _next_due_amount(book: _Book, schedule: list[Instalment], next_due: date | None, status: str) -> int:
    """What must be paid by the next due date: the schedule up to it not yet covered, plus every charge outside the
    schedule (penalties, fines, later fees), which are due at once. With no due date ahead: everything."""
    if status in ("repaid", "written_off"):
        return 0
    outstanding = {c: max(0, book.outstanding(c)) for c in Component}
    if next_due is None:
        return sum(outstanding.values())
    scheduled = sum(i.total for i in schedule if i.due_date <= next_due)
    scheduled_fees = sum(i.fees for i in schedule)
    unscheduled_fees = max(0, book.fees - scheduled_fees - book.paid[Component.FEES] - book.waived[Component.FEES])
    return (
        max(0, scheduled - _covered_by_payments(book))
        + outstanding[Component.PENALTY]
        + outstanding[Component.FINES]
        + unscheduled_fees
    )


def _covered_by_payments(book: _Book) -> int:
    return (
        book.paid[Component.PRINCIPAL]
        + book.paid[Component.INTEREST]
        + book.paid[Component.FEES]
        + sum(book.waived[c] for c in (Component.PRINCIPAL, Component.INTEREST, Component.FEES))
    )


def _breakpoints(schedule: list[Instalment], terms: ProductTerms) -> list[date]:
    """Dates on which what drives accrual may change by themselves: due dates, grace ends, fine days (sorted)."""
    offsets = {0, terms.grace_days, *(f.days_past_due for f in terms.fines)}
    return sorted({i.due_date + timedelta(days=offset) for i in schedule for offset in offsets})


@dataclass(frozen=True)
class _ScheduleIndex:
    """Running totals of a schedule, so "what is due before day D" is two binary searches, not a walk."""

    due_dates: list[date]
    cumulative_total: list[int]  # through instalment k
    cumulative_principal: list[int]

    @classmethod
    def of(cls, schedule: list[Instalment]) -> _ScheduleIndex:
        totals, principals, t, p = [], [], 0, 0
        for instalment in schedule:
            t, p = t + instalment.total, p + instalment.principal
            totals.append(t)
            principals.append(p)
        return cls([i.due_date for i in schedule], totals, principals)


def _overdue(book: _Book, index: _ScheduleIndex, day: date) -> tuple[int, int, date | None]:
    """(overdue amount, overdue principal, oldest uncovered due date) on `day`."""
    count = bisect_left(index.due_dates, day)  # instalments due before `day`
    if count == 0:
        return 0, 0, None
    covered = _covered_by_payments(book)
    due_total = index.cumulative_total[count - 1]
    principal_paid = book.paid[Component.PRINCIPAL] + book.waived[Component.PRINCIPAL]
    first_uncovered = bisect_right(index.cumulative_total, covered, hi=count)
    oldest = index.due_dates[first_uncovered] if first_uncovered < count else None
    return max(0, due_total - covered), max(0, index.cumulative_principal[count - 1] - principal_paid), oldest


def _days_past_due(book: _Book, due: _ScheduleIndex, as_of: date) -> int:
    if book.all_paid() or book.written_off:
        return 0
    _, _, oldest = _overdue(book, due, as_of)
    return (as_of - oldest).days if oldest else 0


def _room_total(book: _Book, loan: SignedLoan) -> Decimal | None:
    return total_cost_room(loan.terms.caps, loan.principal, book.total_charges_exact())


def _within_total_cap(book: _Book, loan: SignedLoan, amount: int) -> int:
    room = _room_total(book, loan)
    return amount if room is None else int(min(Decimal(amount), room))


def _accrue(book: _Book, loan: SignedLoan, due: _ScheduleIndex, start: date, end: date) -> None:
    """Accrue the nights from `start` to `end` (everything that drives accrual is constant between them, and no
    due date falls strictly inside: due dates are breakpoints)."""
    if book.written_off or book.all_paid():
        return
    terms = loan.terms
    days = (end - start).days
    overdue_amount, overdue_principal, oldest = _overdue(book, due, start + timedelta(days=1))
    past_grace = oldest is not None and start >= oldest + timedelta(days=terms.grace_days)
    interest_stopped = oldest is not None and terms.after_due is not AfterDue.CONTINUE
    daily_penalty = ZERO
    if past_grace and terms.after_due is not AfterDue.STOP:
        daily_penalty = Decimal(overdue_principal) * terms.penalty_daily_rate
        if book.delay_start != oldest:
            book.delay_start, book.delay_base, book.delay_penalty = oldest, overdue_amount, ZERO
    rate, principal = book.rate, Decimal(book.principal_out)
    ceiling = None if terms.caps.daily_cost_share is None else terms.caps.daily_cost_share * principal

    def night_interest(day: date) -> Decimal:
        # Held to NIGHT_QUANTUM: a night's interest is then a number that adds exactly, so many nights taken at once
        # (`nightly * days`) and the same nights posted one by one by close of business are the same to the last
        # digit, also where the exact value sits on a half unit (1,000 at 0.73% a year over 18 nights: 182.5).
        return ZERO if interest_stopped else (principal * rate.night(day)).quantize(NIGHT_QUANTUM, ROUND_HALF_EVEN)

    if rate.uniform_nights():
        nightly = _within_daily(night_interest(start), daily_penalty, ceiling)
        interest, penalty = _capped(book, loan, nightly[0] * days, nightly[1] * days)
        if days > 1 and (interest, penalty) != (nightly[0] * days, nightly[1] * days):
            # A cap binds inside the span: accrue night by night, so a span is always the sum of its nights (close
            # of business posts nights one at a time and must land where the engine does).
            for n in range(days):
                _book_accrual(book, *_capped(book, loan, *nightly))
                # A fine falls due on its own morning, before the next night's accrual takes what room is left.
                _apply_fines(book, loan, due, start + timedelta(days=n + 1))
        else:
            _book_accrual(book, interest, penalty)
    else:
        # Nights that differ (30E/360 month ends, leap years under ISDA): always night by night, so a span is the
        # very sum close of business posts one night at a time. (The span's own factor, one division for many
        # nights, differs from the sum of the nights' factors in the 28th digit, which can flip a half-unit at
        # rounding: 8.5 against 8.4999… on 5 nights of 5.1% a month on 1,000.)
        for n in range(days):
            nightly = _within_daily(night_interest(start + timedelta(days=n)), daily_penalty, ceiling)
            _book_accrual(book, *_capped(book, loan, *nightly))
            _apply_fines(book, loan, due, start + timedelta(days=n + 1))
    if terms.interest_rounding is InterestRounding.PER_PERIOD and _is_due_date(due, end):
        # The instalment period ends: its interest becomes whole minor units, as its instalment states it.
        book.interest_locked += rounded(book.interest_exact)
        book.interest_exact = ZERO


def _within_daily(interest: Decimal, penalty: Decimal, ceiling: Decimal | None) -> tuple[Decimal, Decimal]:
    """One night's interest and penalty, scaled together down to the daily cost cap."""
    if ceiling is not None and interest + penalty > ceiling:
        scale = ceiling / (interest + penalty)
        return interest * scale, penalty * scale
    return interest, penalty


def _is_due_date(due: _ScheduleIndex, day: date) -> bool:
    at = bisect_left(due.due_dates, day)
    return at < len(due.due_dates) and due.due_dates[at] == day


def _capped(book: _Book, loan: SignedLoan, interest: Decimal, penalty: Decimal) -> tuple[Decimal, Decimal]:
    if penalty:
        penalty = _cap_penalty(book, loan, penalty)
    room = _room_total(book, loan)
    if room is not None and interest + penalty > room:
        scale = room / (interest + penalty) if interest + penalty else ZERO
        interest, penalty = interest * scale, penalty * scale
    return interest, penalty


def _book_accrual(book: _Book, interest: Decimal, penalty: Decimal) -> None:
    book.interest_exact += interest
    book.penalty_exact += penalty
    book.delay_penalty += penalty


def _cap_penalty(book: _Book, loan: SignedLoan, penalty: Decimal) -> Decimal:
    caps = loan.terms.caps
    if caps.penalty_per_delay_share is not None:
        penalty = min(penalty, max(ZERO, caps.penalty_per_delay_share * book.delay_base - book.delay_penalty))
    if caps.penalty_total_share is not None:
        penalty = min(penalty, max(ZERO, caps.penalty_total_share * loan.principal - book.penalty_exact - book.fines))
    return penalty


def _apply_fines(book: _Book, loan: SignedLoan, due: _ScheduleIndex, day: date) -> None:
    if book.written_off or not loan.terms.fines:
        return
    _, _, oldest = _overdue(book, due, day)
    if oldest is None:
        return
    caps = loan.terms.caps
    for fine in loan.terms.fines:
        if (day - oldest).days < fine.days_past_due or (oldest, fine.days_past_due) in book.fines_applied:
            continue
        book.fines_applied.add((oldest, fine.days_past_due))
        amount = fine.amount
        if caps.default_fees_total is not None:
            amount = min(amount, max(0, caps.default_fees_total - book.fines))
        if caps.penalty_total_share is not None:
            room = caps.penalty_total_share * loan.principal - book.penalty_exact - book.fines
            amount = int(min(Decimal(amount), max(ZERO, room)))
        book.fines += _within_total_cap(book, loan, amount)


def _apply(book: _Book, loan: SignedLoan, schedule: list[Instalment], event: LoanEvent, day: date) -> list[Instalment]:
    if isinstance(event, Repayment):
        _allocate(book, loan, event)
    elif isinstance(event, Waiver):
        available = book.outstanding(event.component)
        book.waived[event.component] += min(event.amount, max(0, available))
        if event.component is Component.PRINCIPAL:
            book.principal_out -= min(event.amount, max(0, available))
    elif isinstance(event, FeeCharge):
        book.fees += _within_total_cap(book, loan, event.amount)
    elif isinstance(event, WriteOff):
        book.written_off = True
    elif isinstance(event, RateChange):
        book.rate = book.rate.with_value(event.rate)
    elif isinstance(event, Extension):
        return _extend(book, loan, schedule, event)
    return schedule


def _allocate(book: _Book, loan: SignedLoan, payment: Repayment) -> None:
    left = payment.amount
    parts: dict[Component, int] = {}
    for component in loan.waterfall:
        take = min(left, max(0, book.outstanding(component)))
        if take:
            parts[component] = take
            book.paid[component] += take
            if component is Component.PRINCIPAL:
                book.principal_out -= take
            left -= take
    book.overpayment += left
    book.allocations.append(Allocation(payment.value_date, payment.amount, parts, left))


def _extend(book: _Book, loan: SignedLoan, schedule: list[Instalment], event: Extension) -> list[Instalment]:
    terms = loan.terms
    limit = min(terms.max_extensions, terms.caps.max_extensions if terms.caps.max_extensions is not None else 10**6)
    if book.extensions >= limit:
        raise LoanRuleViolation(f"no more than {limit} extensions")
    if event.days not in terms.extension_days:
        raise LoanRuleViolation(f"an extension is one of {list(terms.extension_days)} days")
    if terms.extension_requires_interest_paid and book.outstanding(Component.INTEREST) > 0:
        raise LoanRuleViolation("accrued interest must be paid before an extension")
    fee = rounded(Decimal(book.principal_out) * terms.extension_fee_percent / 100)
    book.fees += _within_total_cap(book, loan, fee)
    book.extensions += 1
    last = schedule[-1]
    return [*schedule[:-1], replace(last, due_date=last.due_date + timedelta(days=event.days))]


def extension_quote(loan: SignedLoan, events: list[LoanEvent], on: date, days: int) -> tuple[int, date, int]:
    """(fee, new due date, what must be paid first) for extending by `days` on `on`; raises if not allowed. When
    the terms want interest paid first, "first" is every charge outstanding (the waterfall takes fines, penalty and
    fees before interest), paid on the same day just before the extension."""
    state = state_as_of(loan, events, on)
    pay_first = sum(state.outstanding[c] for c in CHARGES) if loan.terms.extension_requires_interest_paid else 0
    before = [Repayment(on, pay_first, seq=10**9 - 1)] if pay_first else []
    after = state_as_of(loan, [*events, *before, Extension(on, days, seq=10**9)], on)
    fee = after.accrued[Component.FEES] - state.accrued[Component.FEES]
    return fee, after.due_date, pay_first


def amounts_to_post(state: LoanState, posted: dict[Component, int]) -> dict[Component, int]:
    """What the ledger must receive so it holds what the loan has accrued: accrued to date (rounded once) minus what
    was posted before, per charge. Empty when the ledger is already right."""
    differences = {c: state.accrued[c] - posted.get(c, 0) for c in CHARGES}
    return {c: amount for c, amount in differences.items() if amount != 0}
