"""Property tests of the loan engine: caps hold, allocation never over-pays, a quote is the loan, and posting the
daily differences adds up to the loan's accrual exactly (no drift)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from domain.lending.engine import (
    ACCRUING,
    CHARGES,
    Component,
    Repayment,
    SignedLoan,
    amounts_to_post,
    project_nights,
    state_as_of,
)
from domain.lending.interest import DayCount, RatePeriod
from domain.lending.products import (
    AfterDue,
    Caps,
    Fine,
    Frequency,
    InterestRounding,
    ProductInvalid,
    ProductTerms,
    RepaymentKind,
)
from domain.lending.profiles import PROFILES, hold_to_profile
from domain.lending.schedule import quote, rounded

START = date(2026, 1, 5)

# How lenders state a rate (scaled so a day costs about the same), and how interest is rounded.
DAYS_PER = {RatePeriod.DAY: 1, RatePeriod.WEEK: 7, RatePeriod.MONTH: 30, RatePeriod.YEAR: 365}
conventions = st.tuples(
    st.sampled_from(list(RatePeriod)), st.sampled_from(list(DayCount)), st.sampled_from(list(InterestRounding))
)
shapes = st.sampled_from(
    [
        (RepaymentKind.SINGLE, None),
        *((kind, f) for kind in (RepaymentKind.ANNUITY, RepaymentKind.DECLINING) for f in Frequency),
    ]
)

terms_strategy = st.builds(
    lambda rate, penalty, cap_total, fines, after_due, convention, shape: ProductTerms(
        currency="USD",
        principal_min=1_000,
        principal_max=1_000_000,
        principal_step=1,
        term_min_days=1,
        term_max_days=365,
        rate=rate * DAYS_PER[convention[0]],
        penalty_daily_rate=penalty,
        fines=fines,
        after_due=after_due,
        caps=Caps(total_cost_share=cap_total, daily_cost_share=Decimal("0.02")),
        rate_period=convention[0],
        day_count=convention[1],
        interest_rounding=convention[2],
        repayment=shape[0],
        frequency=shape[1],
    ),
    st.decimals(min_value=Decimal("0"), max_value=Decimal("0.01"), places=5),
    st.decimals(min_value=Decimal("0"), max_value=Decimal("0.01"), places=5),
    st.one_of(st.none(), st.decimals(min_value=Decimal("0.1"), max_value=Decimal("2"), places=2)),
    st.lists(st.builds(Fine, st.integers(1, 60), st.integers(1, 5_000)), max_size=3).map(tuple),
    st.sampled_from(list(AfterDue)),
    conventions,
    shapes,
)
payments = st.lists(st.tuples(st.integers(0, 200), st.integers(1, 200_000)), max_size=6)


@settings(max_examples=150, deadline=None)
@given(terms_strategy, st.integers(1_000, 1_000_000), st.integers(1, 120), payments, st.integers(0, 400))
def test_charges_stay_within_caps_and_payments_never_over_pay(
    terms: ProductTerms, principal: int, term: int, paid: list[tuple[int, int]], horizon: int
) -> None:
    loan = SignedLoan(terms, principal, START, quote(terms, principal, term, START).schedule)
    events = [Repayment(START + timedelta(days=d), amount, seq=n) for n, (d, amount) in enumerate(paid)]
    state = state_as_of(loan, events, START + timedelta(days=horizon))
    charges = sum(state.accrued[c] for c in CHARGES)
    if terms.caps.total_cost_share is not None:
        assert charges <= rounded(terms.caps.total_cost_share * principal) + 2  # two rounded components
    assert state.accrued[Component.INTEREST] <= rounded(Decimal("0.02") * principal * horizon) + 1
    for component in Component:
        assert 0 <= state.paid[component] <= state.accrued[component]
        assert state.outstanding[component] >= 0
    for allocation in state.allocations:
        assert sum(allocation.parts.values()) + allocation.overpayment == allocation.amount
    assert sum(state.paid.values()) + state.overpayment == sum(amount for d, amount in paid if d <= horizon)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1_000, 1_000_000), st.integers(1, 365), st.decimals(min_value=0, max_value=Decimal("0.01"), places=5)
)
def test_a_quote_is_the_loan_on_every_day(principal: int, term: int, rate: Decimal) -> None:
    terms = ProductTerms("USD", 1_000, 1_000_000, 1, 1, 365, rate)
    offer = quote(terms, principal, term, START)
    loan = SignedLoan(terms, principal, START, offer.schedule)
    for day in sorted({0, 1, term // 2, term}):
        state = state_as_of(loan, [], START + timedelta(days=day))
        assert state.accrued[Component.INTEREST] == rounded(Decimal(principal) * rate * day)
    assert state_as_of(loan, [], offer.due_date).total_outstanding == offer.total_due


@settings(max_examples=60, deadline=None)
@given(terms_strategy, st.integers(1_000, 500_000), st.integers(7, 60), payments, st.integers(1, 90))
def test_posting_the_daily_differences_adds_up_to_the_accrual_exactly(
    terms: ProductTerms, principal: int, term: int, paid: list[tuple[int, int]], days: int
) -> None:
    terms = replace(terms, fines=())
    loan = SignedLoan(terms, principal, START, quote(terms, principal, term, START).schedule)
    events = [Repayment(START + timedelta(days=d), amount, seq=n) for n, (d, amount) in enumerate(paid)]
    posted: dict[Component, int] = {}
    for day in range(1, days + 1):
        state = state_as_of(loan, events, START + timedelta(days=day))
        for component, amount in amounts_to_post(state, posted).items():
            posted[component] = posted.get(component, 0) + amount
        assert amounts_to_post(state, posted) == {}  # recalculating unchanged inputs posts nothing
    final = state_as_of(loan, events, START + timedelta(days=days))
    assert {c: posted.get(c, 0) for c in CHARGES} == {c: final.accrued[c] for c in CHARGES}


ua_like_caps = st.builds(
    Caps,
    daily_cost_share=st.just(Decimal("0.02")),
    total_cost_share=st.one_of(st.none(), st.decimals(min_value=Decimal("0.1"), max_value=Decimal("2"), places=2)),
    penalty_per_delay_share=st.one_of(st.none(), st.just(Decimal("0.15"))),
    penalty_total_share=st.one_of(st.none(), st.just(Decimal("0.5"))),
    default_fees_total=st.one_of(st.none(), st.integers(0, 3_000)),
)


@settings(max_examples=120, deadline=None)
@given(
    terms_strategy,
    ua_like_caps,
    st.integers(1_000, 500_000),
    st.integers(7, 60),
    payments,
    st.integers(0, 40),
    st.integers(1, 90),
)
def test_projected_nights_are_the_engine_each_morning(
    terms: ProductTerms, caps: Caps, principal: int, term: int, paid: list[tuple[int, int]], since: int, nights: int
) -> None:
    """Close of business posts the projection's increments without running the engine; each morning the ledger
    must then hold exactly what `state_as_of` says (accruals, status, days past due)."""
    terms = replace(terms, caps=caps)
    loan = SignedLoan(terms, principal, START, quote(terms, principal, term, START).schedule)
    start = START + timedelta(days=since)
    events = [Repayment(START + timedelta(days=min(d, since)), amount, seq=n) for n, (d, amount) in enumerate(paid)]
    posted = dict(state_as_of(loan, events, start).accrued)
    for night in project_nights(loan, events, start, nights):
        for component, amount in night.increments.items():
            posted[component] += amount
        morning = state_as_of(loan, events, night.accrual_date + timedelta(days=1))
        assert {c: posted[c] for c in ACCRUING} == {c: morning.accrued[c] for c in ACCRUING}
        assert (night.status, night.days_past_due, night.next_due_date) == (
            morning.status,
            morning.days_past_due,
            morning.next_due_date,
        )


def _profile_terms(draw: st.DrawFn, profile: str) -> ProductTerms:
    """A product a lender could configure under `profile` (held to it, so its caps are the profile's)."""
    repayment = draw(st.sampled_from(list(RepaymentKind)))
    frequency = None if repayment is RepaymentKind.SINGLE else draw(st.sampled_from(list(Frequency)))
    ceiling = Decimal("0.008") if profile == "uk_fca_hcstc" else Decimal("0.01")
    rate = draw(st.decimals(min_value=Decimal("0.0001"), max_value=ceiling, places=4))
    fee_percent = draw(st.sampled_from([Decimal(0), Decimal(1), Decimal(5)]))
    term_min = draw(st.integers(7, 60))
    terms = ProductTerms(
        "GBP",
        5_000,
        200_000,
        100,
        term_min,
        draw(st.integers(term_min, 365)),
        rate,
        repayment=repayment,
        frequency=frequency,
        origination_fee_percent=fee_percent,
    )
    try:
        return hold_to_profile(terms, profile, date(2026, 1, 1))
    except ProductInvalid:
        assume(False)
        raise


@st.composite
def profile_loans(draw: st.DrawFn) -> tuple[ProductTerms, int, int]:
    terms = _profile_terms(draw, draw(st.sampled_from(sorted(PROFILES))))
    principal = draw(st.integers(0, (terms.principal_max - terms.principal_min) // 100)) * 100 + terms.principal_min
    return terms, principal, draw(st.integers(terms.term_min_days, terms.term_max_days))


@settings(max_examples=120, deadline=None)
@given(profile_loans())
def test_a_quote_within_a_profile_stays_within_its_caps_and_is_the_loan_repaid_on_schedule(
    loan_terms: tuple[ProductTerms, int, int],
) -> None:
    terms, principal, term = loan_terms
    offer = quote(terms, principal, term, START)
    caps = terms.caps
    cost = offer.interest + offer.fees
    if caps.total_cost_share is not None:
        assert cost <= caps.total_cost_share * principal
    assert caps.daily_cost_share is not None
    assert offer.interest <= rounded(caps.daily_cost_share * principal * term)
    loan = SignedLoan(terms, principal, START, offer.schedule)
    payments = [Repayment(i.due_date, i.total, seq=n) for n, i in enumerate(offer.schedule)]
    cumulative = {"interest": 0, "fees": 0}
    previous = START
    for instalment in offer.schedule:
        cumulative["interest"] += instalment.interest
        cumulative["fees"] += instalment.fees
        # Every morning up to a due date, the loan owes what the schedule says it will have accrued by then at most.
        for day in sorted({previous, previous + (instalment.due_date - previous) // 2, instalment.due_date}):
            state = state_as_of(loan, payments, day)
            assert state.accrued[Component.INTEREST] <= cumulative["interest"]
            assert state.status in ("active", "repaid")
        state = state_as_of(loan, payments, instalment.due_date)
        assert state.accrued[Component.INTEREST] == cumulative["interest"]
        assert state.accrued[Component.FEES] == cumulative["fees"]
        assert state.days_past_due == 0
        previous = instalment.due_date
    final = state_as_of(loan, payments, offer.due_date)
    assert final.status == "repaid" and final.overpayment == 0
    assert sum(final.paid.values()) == offer.total_due


@settings(max_examples=150, deadline=None)
@given(
    terms_strategy,
    st.integers(1_000, 1_000_000),
    st.integers(7, 365),
    st.dates(min_value=date(2023, 1, 1), max_value=date(2028, 12, 31)),
)
def test_a_quote_is_the_loan_repaid_on_schedule_whatever_the_rate_convention(
    terms: ProductTerms, principal: int, term: int, start: date
) -> None:
    """Rates per day, week, month or year, every day count, both roundings, every repayment shape: paying each
    instalment on its due date leaves the loan exactly repaid, having charged the schedule's interest."""
    terms = replace(terms, fines=(), penalty_daily_rate=Decimal(0))
    offer = quote(terms, principal, term, start)
    loan = SignedLoan(terms, principal, start, offer.schedule)
    payments = [Repayment(i.due_date, i.total, seq=n) for n, i in enumerate(offer.schedule)]
    charged = 0
    for k, instalment in enumerate(offer.schedule):
        charged += instalment.interest
        state = state_as_of(loan, payments[:k], instalment.due_date)
        assert state.accrued[Component.INTEREST] == charged
    final = state_as_of(loan, payments, offer.due_date)
    assert final.status == "repaid" and final.overpayment == 0
