"""Property tests of the underwriting rules: an approval never lends more than asked, than the product allows or
than the borrower can afford; a rejection always says why; more income never lowers what is lent."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.lending.agreement import AgreementFacts, document_hash, render_agreement
from domain.lending.cpa import TemplateInvalid, check_template, postback_url
from domain.lending.products import ProductTerms
from domain.lending.underwriting import (
    ApplicantFacts,
    BureauSummary,
    CreditRules,
    FraudSignals,
    Outcome,
    ScoreBand,
    WhenMissing,
    age_on,
    decide,
    rules_from_stored,
)

TERMS = ProductTerms(
    currency="GBP",
    principal_min=10_000,
    principal_max=100_000,
    principal_step=1_000,
    term_min_days=7,
    term_max_days=60,
    rate=Decimal("0.008"),
    origination_fee_percent=Decimal("5"),
    origination_fee_fixed=300,
)

rules_strategy = st.builds(
    CreditRules,
    min_monthly_income=st.integers(0, 200_000),
    max_repayment_to_income=st.decimals(Decimal("0.05"), Decimal("1"), places=2),
    reject_below_score=st.integers(300, 500),
    review_below_score=st.integers(500, 700),
    score_bands=st.lists(st.builds(ScoreBand, st.integers(300, 850), st.integers(0, 150_000)), max_size=3).map(tuple),
    first_loan_max_principal=st.one_of(st.none(), st.integers(1_000, 150_000)),
    repeat_step=st.integers(0, 20_000),
    thin_file=st.sampled_from(list(WhenMissing)),
    bureau_unavailable=st.sampled_from(list(WhenMissing)),
    score_unavailable=st.sampled_from(list(WhenMissing)),
)
bureau_strategy = st.one_of(
    st.none(),
    st.builds(
        BureauSummary, st.just("bureau-a"), st.booleans(), st.integers(0, 8), st.integers(0, 3), st.integers(0, 120)
    ),
)
fraud_strategy = st.builds(
    FraudSignals,
    st.lists(st.sampled_from(["phone", "national_id", "device"]), unique=True, max_size=2).map(tuple),
    st.integers(0, 4),
    st.integers(1, 5),
    st.integers(1, 5),
    st.integers(1, 5),
)
facts_strategy = st.builds(
    ApplicantFacts,
    age=st.integers(16, 90),
    monthly_income=st.integers(0, 1_000_000),
    requested_principal=st.integers(10, 100).map(lambda k: k * 1_000),
    term_days=st.integers(7, 60),
    repaid_loans=st.integers(0, 5),
    open_loans_here=st.sampled_from([0, 0, 0, 1]),
    overdue_here=st.sampled_from([False, False, False, True]),
    bureau=bureau_strategy,
    score=st.one_of(st.none(), st.integers(300, 850)),
    fraud=fraud_strategy,
)


@given(rules_strategy, facts_strategy)
def test_what_is_lent_fits_the_request_the_product_and_the_income(rules: CreditRules, facts: ApplicantFacts) -> None:
    decision = decide(TERMS, rules, facts)
    if decision.outcome is Outcome.REJECT:
        assert decision.principal == 0
        assert decision.borrower_reasons and decision.staff_reasons
        return
    principal = decision.principal
    assert TERMS.principal_min <= principal <= min(facts.requested_principal, TERMS.principal_max)
    assert (principal - TERMS.principal_min) % TERMS.principal_step == 0
    due = principal * (1 + TERMS.rate * facts.term_days + TERMS.origination_fee_percent / 100)
    assert due + TERMS.origination_fee_fixed <= facts.monthly_income * rules.max_repayment_to_income
    assert not facts.fraud.blacklisted and not facts.overdue_here
    if decision.outcome is Outcome.APPROVE:
        assert ("lower_amount" in decision.borrower_reasons) == (principal < facts.requested_principal)


@given(rules_strategy, facts_strategy, st.integers(1, 500_000))
def test_more_income_never_lowers_what_is_lent(rules: CreditRules, facts: ApplicantFacts, raise_by: int) -> None:
    before = decide(TERMS, rules, facts)
    after = decide(TERMS, rules, replace(facts, monthly_income=facts.monthly_income + raise_by))
    if before.outcome is not Outcome.REJECT:
        assert after.outcome is before.outcome and after.principal >= before.principal


def test_a_good_file_is_approved_in_full_and_a_thin_one_goes_to_a_person() -> None:
    good = ApplicantFacts(
        age=35,
        monthly_income=300_000,
        requested_principal=50_000,
        term_days=30,
        bureau=BureauSummary("bureau-a", True, 1),
        score=700,
    )
    assert decide(TERMS, CreditRules(), good).outcome is Outcome.APPROVE
    assert decide(TERMS, CreditRules(), good).principal == 50_000
    thin = replace(good, bureau=BureauSummary("bureau-a", False))
    assert decide(TERMS, CreditRules(), thin).outcome is Outcome.REVIEW
    poor = replace(good, monthly_income=20_000)  # half of it pays for 7_751 at most: below the minimum
    assert decide(TERMS, CreditRules(), poor).borrower_reasons == ("affordability",)


def test_first_time_borrowers_are_capped_and_each_repaid_loan_raises_the_cap() -> None:
    rules = CreditRules(first_loan_max_principal=20_000, repeat_step=10_000)
    facts = ApplicantFacts(
        age=35,
        monthly_income=900_000,
        requested_principal=50_000,
        term_days=30,
        bureau=BureauSummary("bureau-a", True),
        score=700,
    )
    assert [decide(TERMS, rules, replace(facts, repaid_loans=n)).principal for n in range(5)] == [
        20_000,
        30_000,
        40_000,
        50_000,
        50_000,
    ]


def test_rules_round_trip_through_storage() -> None:
    rules = rules_from_stored(
        {
            "max_repayment_to_income": "0.4",
            "score_bands": [{"min_score": 600, "max_principal": 30_000}],
            "thin_file": "reject",
            "first_loan_max_principal": None,
        }
    )
    assert rules.max_repayment_to_income == Decimal("0.4") and rules.thin_file is WhenMissing.REJECT
    assert rules.score_bands == (ScoreBand(600, 30_000),) and rules.min_age == 18


def test_age_counts_whole_years_and_leap_birthdays() -> None:
    assert age_on(date(2008, 11, 23), date(2026, 11, 22)) == 17
    assert age_on(date(2008, 11, 22), date(2026, 11, 22)) == 18
    assert age_on(date(2004, 2, 29), date(2026, 2, 28)) == 21


def test_the_agreement_is_the_same_document_for_the_same_offer() -> None:
    facts = AgreementFacts("app-1", "Alice Example", "Payday", 3, TERMS, 50_000, 30, date(2026, 11, 22))
    document = render_agreement(facts)
    assert document == render_agreement(facts) and document_hash(document) == document_hash(render_agreement(facts))
    assert "Principal: 500.00 GBP" in document and "Total to repay: 648.00 GBP" in document
    assert document_hash(render_agreement(replace(facts, principal=40_000))) != document_hash(document)


@given(st.text(min_size=1, max_size=40))
def test_postback_values_are_url_encoded_whatever_the_click_id(click_id: str) -> None:
    url = postback_url("https://net.example/p?c={click_id}&o={order_id}", {"click_id": click_id, "order_id": "o-1"})
    query = url.split("?", 1)[1]
    assert query.count("&") == 1 and query.endswith("&o=o-1") and " " not in url


def test_a_template_with_unknown_placeholders_is_refused() -> None:
    for bad in ("ftp://x/{click_id}", "https://x/?a={secret}&c={click_id}", "https://x/?o={order_id}", "https://x/{"):
        try:
            check_template(bad)
        except TemplateInvalid:
            continue
        raise AssertionError(f"{bad} was accepted")
