"""Worked examples for products, schedules and the loan engine, written from the rules (shared/REGULATION.md),
not from the code."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from domain.lending.engine import (
    CHARGES,
    Component,
    Extension,
    LoanRuleViolation,
    RateChange,
    Repayment,
    SignedLoan,
    Waiver,
    WriteOff,
    amounts_to_post,
    state_as_of,
)
from domain.lending.postings import LoanLedgerAccounts, bring_to_state, posted_after
from domain.lending.products import (
    AfterDue,
    Fine,
    Frequency,
    ProductInvalid,
    ProductTerms,
    RepaymentKind,
    SegmentRule,
    check_terms,
    debit_attempt_allowed,
)
from domain.lending.profiles import UA_2023_IN_FORCE, hold_to_profile, ua_2023_max_daily_rate
from domain.lending.schedule import quote

START = date(2026, 3, 2)
PAYDAY = ProductTerms(
    currency="GBP",
    principal_min=5_000,
    principal_max=100_000,
    principal_step=1_000,
    term_min_days=7,
    term_max_days=60,
    rate=Decimal("0.008"),
    penalty_daily_rate=Decimal("0"),
    after_due=AfterDue.CONTINUE,
    extension_days=(7, 14, 30),
    extension_fee_percent=Decimal("0"),
    max_extensions=2,
)


def signed(terms: ProductTerms, principal: int, term_days: int, start: date = START) -> SignedLoan:
    return SignedLoan(terms, principal, start, quote(terms, principal, term_days, start).schedule)


# --- UK FCA high-cost short-term credit -----------------------------------------------------------------------------


def test_fca_borrowing_100_pounds_for_30_days_costs_at_most_24_pounds() -> None:
    terms = hold_to_profile(PAYDAY, "uk_fca_hcstc", START)
    offer = quote(terms, 10_000, 30, START)
    assert (offer.interest, offer.fees, offer.total_due) == (2_400, 0, 12_400)
    assert offer.due_date == START + timedelta(days=30)


def test_fca_refuses_a_rate_above_point_eight_percent_a_day() -> None:
    with pytest.raises(ProductInvalid, match="daily cost cap"):
        hold_to_profile(replace(PAYDAY, rate=Decimal("0.0081")), "uk_fca_hcstc", START)


def test_fca_counts_an_upfront_fee_against_the_daily_cap() -> None:
    with pytest.raises(ProductInvalid, match="origination fee"):
        hold_to_profile(replace(PAYDAY, origination_fee_fixed=500), "uk_fca_hcstc", START)


def test_fca_total_cost_never_exceeds_what_was_borrowed() -> None:
    terms = hold_to_profile(replace(PAYDAY, fines=(Fine(1, 1_000), Fine(30, 500))), "uk_fca_hcstc", START)
    loan = signed(terms, 10_000, 30)
    a_year_later = state_as_of(loan, [], START + timedelta(days=365))
    charges = sum(
        a_year_later.accrued[c] for c in (Component.INTEREST, Component.PENALTY, Component.FEES, Component.FINES)
    )
    assert charges == 10_000  # 100% of the amount borrowed, and not a penny more
    assert a_year_later.accrued[Component.FINES] == 1_500  # the £15 default-fee cap


def test_fca_allows_two_rollovers_and_refuses_a_third() -> None:
    terms = hold_to_profile(PAYDAY, "uk_fca_hcstc", START)
    loan = signed(terms, 10_000, 14)
    events: list = []
    for n in range(2):
        on = START + timedelta(days=14 * (n + 1))
        interest_due = state_as_of(loan, events, on).outstanding[Component.INTEREST]
        events += [Repayment(on, interest_due, seq=2 * n), Extension(on, 14, seq=2 * n + 1)]
    state = state_as_of(loan, events, START + timedelta(days=42))
    assert state.extensions == 2
    assert state.due_date == START + timedelta(days=42)
    with pytest.raises(LoanRuleViolation, match="no more than 2"):
        state_as_of(
            loan,
            [*events, Repayment(START + timedelta(days=42), 2_000, 8), Extension(START + timedelta(days=42), 14, 9)],
            START + timedelta(days=42),
        )


def test_an_extension_needs_the_accrued_interest_paid_first() -> None:
    loan = signed(PAYDAY, 10_000, 14)
    with pytest.raises(LoanRuleViolation, match="interest must be paid"):
        state_as_of(loan, [Extension(START + timedelta(days=10), 14)], START + timedelta(days=10))


# --- Ukraine, 2023 amendments ---------------------------------------------------------------------------------------


def test_ua_daily_rate_is_phased_down_to_one_percent() -> None:
    assert ua_2023_max_daily_rate(UA_2023_IN_FORCE) == Decimal("0.025")
    assert ua_2023_max_daily_rate(UA_2023_IN_FORCE + timedelta(days=119)) == Decimal("0.025")
    assert ua_2023_max_daily_rate(UA_2023_IN_FORCE + timedelta(days=120)) == Decimal("0.015")
    assert ua_2023_max_daily_rate(UA_2023_IN_FORCE + timedelta(days=240)) == Decimal("0.01")


UA_PRODUCT = replace(
    PAYDAY,
    currency="UAH",
    rate=Decimal("0.01"),
    penalty_daily_rate=Decimal("0.01"),
    after_due=AfterDue.PENALTY_ONLY,
    max_extensions=0,
    extension_days=(),
)


def test_ua_refuses_more_than_one_percent_a_day_once_phased_in() -> None:
    with pytest.raises(ProductInvalid):
        hold_to_profile(replace(UA_PRODUCT, rate=Decimal("0.012")), "ua_2023", date(2026, 1, 1))
    hold_to_profile(UA_PRODUCT, "ua_2023", date(2026, 1, 1))


def test_ua_penalty_for_one_delay_is_at_most_fifteen_percent_of_the_overdue_payment() -> None:
    terms = hold_to_profile(UA_PRODUCT, "ua_2023", date(2026, 1, 1))
    loan = signed(terms, 10_000, 30)
    overdue_payment = 10_000 + 3_000  # principal and 30 days at 1%
    long_after = state_as_of(loan, [], START + timedelta(days=30 + 200))
    assert long_after.accrued[Component.PENALTY] == overdue_payment * 15 // 100


def test_ua_all_penalties_stay_within_half_of_the_amount_received() -> None:
    terms = hold_to_profile(replace(UA_PRODUCT, fines=(Fine(1, 3_000), Fine(10, 3_000))), "ua_2023", date(2026, 1, 1))
    loan = signed(terms, 10_000, 30)
    late = state_as_of(loan, [], START + timedelta(days=400))
    assert late.accrued[Component.PENALTY] + late.accrued[Component.FINES] <= 5_000


# --- schedules and the engine ----------------------------------------------------------------------------------------

INSTALMENTS = ProductTerms(
    currency="USD",
    principal_min=10_000,
    principal_max=1_000_000,
    principal_step=100,
    term_min_days=28,
    term_max_days=730,
    rate=Decimal("0.002"),
    repayment=RepaymentKind.ANNUITY,
    frequency=Frequency.MONTHLY,
    origination_fee_percent=Decimal("2"),
)


def test_an_annuity_has_equal_payments_and_paying_them_on_time_repays_the_loan() -> None:
    offer = quote(INSTALMENTS, 100_000, 182, START)
    totals = [i.total - i.fees for i in offer.schedule]
    # The last instalment absorbs the rounding of the others: at most a minor unit per instalment.
    assert max(totals[:-1]) == min(totals[:-1]) and abs(totals[-1] - totals[0]) <= len(totals)
    assert offer.schedule[0].fees == 2_000 and sum(i.principal for i in offer.schedule) == 100_000
    loan = SignedLoan(INSTALMENTS, 100_000, START, offer.schedule)
    payments = [Repayment(i.due_date, i.total, seq=n) for n, i in enumerate(offer.schedule)]
    for n, instalment in enumerate(offer.schedule):
        state = state_as_of(loan, payments[: n + 1], instalment.due_date)
        allocation = state.allocations[-1]
        assert allocation.parts.get(Component.INTEREST, 0) == instalment.interest
        assert allocation.parts.get(Component.PRINCIPAL, 0) == instalment.principal
        assert state.days_past_due == 0
    assert state.status == "repaid"
    assert state.accrued[Component.INTEREST] == offer.interest


def test_declining_balance_repays_equal_principal_parts() -> None:
    terms = replace(INSTALMENTS, repayment=RepaymentKind.DECLINING, frequency=Frequency.WEEKLY)
    offer = quote(terms, 70_000, 70, START)
    assert [i.principal for i in offer.schedule] == [7_000] * 10
    interests = [i.interest for i in offer.schedule]
    assert interests == sorted(interests, reverse=True)


def test_a_payment_follows_the_waterfall_and_an_overpayment_is_reported() -> None:
    terms = replace(PAYDAY, penalty_daily_rate=Decimal("0.001"), fines=(Fine(3, 1_000),))
    loan = signed(terms, 10_000, 10)
    on = START + timedelta(days=15)
    before = state_as_of(loan, [], on)
    assert before.days_past_due == 5 and before.status == "overdue"
    owed = before.total_outstanding
    state = state_as_of(loan, [Repayment(on, owed + 123)], on)
    parts = state.allocations[0].parts
    assert list(parts) == [Component.FINES, Component.PENALTY, Component.INTEREST, Component.PRINCIPAL]
    assert parts[Component.FINES] == 1_000
    assert state.overpayment == 123 and state.status == "repaid"


def test_a_retroactive_rate_change_is_a_difference_to_post_and_nothing_when_nothing_changed() -> None:
    loan = signed(PAYDAY, 10_000, 30)
    on = START + timedelta(days=20)
    posted = state_as_of(loan, [], on).accrued
    assert amounts_to_post(state_as_of(loan, [], on), posted) == {}
    lowered = state_as_of(loan, [RateChange(START + timedelta(days=10), Decimal("0.005"))], on)
    assert amounts_to_post(lowered, posted) == {Component.INTEREST: -300}  # 10 days at 0.3% of 10,000


def test_waivers_and_write_off_stop_what_is_owed() -> None:
    loan = signed(PAYDAY, 10_000, 30)
    on = START + timedelta(days=40)
    waived = state_as_of(loan, [Waiver(on, Component.INTEREST, 500)], on)
    assert waived.outstanding[Component.INTEREST] == state_as_of(loan, [], on).outstanding[Component.INTEREST] - 500
    written_off = state_as_of(loan, [WriteOff(on)], on + timedelta(days=30))
    assert written_off.status == "written_off"
    assert written_off.accrued == state_as_of(loan, [], on).accrued


def test_invalid_products_are_refused_with_every_reason() -> None:
    with pytest.raises(ProductInvalid) as refused:
        check_terms(replace(PAYDAY, principal_min=200_000, rate=Decimal("-0.01"), term_min_days=0))
    assert len(refused.value.problems) >= 3


def test_fca_allows_two_failed_card_debits_and_no_third_attempt() -> None:
    terms = hold_to_profile(PAYDAY, "uk_fca_hcstc", START)
    assert [debit_attempt_allowed(terms, failed) for failed in range(4)] == [True, True, False, False]
    assert debit_attempt_allowed(PAYDAY, 10)  # no cap on an unregulated product


def test_segments_separate_first_time_and_repeat_borrowers() -> None:
    first_time, repeat = SegmentRule(0, 0), SegmentRule(min_repaid_loans=2)
    assert [first_time.admits(n) for n in (0, 1, 2)] == [True, False, False]
    assert [repeat.admits(n) for n in (0, 1, 2, 9)] == [False, False, True, True]


def test_a_recalculation_becomes_balanced_adjustments_or_nothing() -> None:
    accounts = LoanLedgerAccounts(
        "GBP",
        receivable={c: 1 if c is Component.INTEREST else 2 for c in Component},
        income={c: 3 for c in CHARGES},
        settlement=5,
        loss=6,
        wallet=None,
    )
    loan = signed(PAYDAY, 10_000, 30)
    on = START + timedelta(days=20)
    posted = posted_after(state_as_of(loan, [], on))
    lowered = state_as_of(loan, [RateChange(START + timedelta(days=10), Decimal("0.005"))], on)
    postings = bring_to_state(lowered, posted, accounts, cash_in=0)
    assert {(p.account_id, p.amount) for p in postings} == {(1, 300), (3, -300)}  # receivable and income shrink
    assert bring_to_state(state_as_of(loan, [], on), posted, accounts, cash_in=0) == []
