"""The posting recipes of the chart (domain/lending/postings.py, domain/affiliate/postings.py): whatever the amounts,
what they produce balances, and the ledger's own validation accepts it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.accounts import INCOME_FOR, HouseAccount, OwnerAccount, Side
from domain.affiliate.postings import commission_postings
from domain.ledger import AccountKind, Posting, validate_postings
from domain.lending.engine import CHARGES, Component, LoanEvent, RateChange, Repayment, SignedLoan, Waiver, state_as_of
from domain.lending.postings import (
    DisbursementAccounts,
    LoanLedgerAccounts,
    PostedState,
    bring_to_state,
    disbursement_postings,
    posted_after,
    write_off_postings,
)
from domain.lending.products import AfterDue, Fine, ProductTerms
from domain.lending.schedule import quote

START = date(2026, 3, 2)
TERMS = ProductTerms(
    currency="GBP",
    principal_min=1_000,
    principal_max=1_000_000,
    principal_step=1,
    term_min_days=1,
    term_max_days=120,
    rate=Decimal("0.008"),
    penalty_daily_rate=Decimal("0.001"),
    after_due=AfterDue.CONTINUE,
    fines=(Fine(3, 1_500),),
)
LOAN_ACCOUNTS = LoanLedgerAccounts(
    "GBP",
    receivable={c: 10 + n for n, c in enumerate(Component)},
    income={c: 20 + n for n, c in enumerate(CHARGES)},
    settlement=30,
    loss=31,
    wallet=32,
)
NOTHING_POSTED = PostedState(accrued={}, paid={}, waived={}, overpayment=0)


def balanced(postings: list[Posting]) -> bool:
    totals: dict[str, int] = {}
    for posting in postings:
        totals[posting.currency] = totals.get(posting.currency, 0) + posting.amount
    return all(total == 0 for total in totals.values())


def test_the_chart_gives_every_purpose_a_kind_and_the_side_its_kind_grows_on() -> None:
    assert {p.kind for p in HouseAccount} <= set(AccountKind)
    assert HouseAccount.SETTLEMENT.normal_side is Side.DEBIT
    assert HouseAccount.INTEREST_INCOME.normal_side is Side.CREDIT
    assert OwnerAccount.WALLET.normal_side is Side.CREDIT  # what the company owes a user
    assert OwnerAccount.LOAN_RECEIVABLE.normal_side is Side.DEBIT
    assert set(INCOME_FOR) == set(CHARGES)
    assert all(INCOME_FOR[c].kind is AccountKind.INCOME for c in CHARGES)
    assert HouseAccount.FEE_INCOME.code("GBP", 3) == "house:fee_income:GBP:3"


@given(st.integers(1, 10**12), st.integers(0, 10**9))
def test_a_disbursement_balances_and_owes_the_fee_from_day_one(principal: int, fee: int) -> None:
    postings = disbursement_postings(principal, fee, DisbursementAccounts("GBP", 1, 2, 3, 4))
    validate_postings(postings)
    owed = -sum(p.amount for p in postings if p.account_id in (1, 2))
    assert owed == principal + fee
    assert len(postings) == (2 if fee == 0 else 4)


@given(st.dictionaries(st.sampled_from("abcdefg"), st.integers(-50_000, 50_000), max_size=7))
def test_commissions_and_clawbacks_balance_against_the_expense(nets: dict[str, int]) -> None:
    wallets = {partner: n for n, partner in enumerate("abcdefg", start=1)}
    postings = commission_postings(nets, wallets, 99, "EUR")
    assert balanced(postings)
    assert {p.account_id for p in postings if p.account_id != 99} == {wallets[k] for k, v in nets.items() if v}
    if any(nets.values()) and sum(nets.values()) != 0:
        validate_postings(postings)


events = st.lists(
    st.one_of(
        st.builds(lambda d, a: ("pay", d, a), st.integers(0, 90), st.integers(1, 40_000)),
        st.builds(lambda d, a: ("waive", d, a), st.integers(0, 90), st.integers(1, 5_000)),
        st.builds(lambda d: ("rate", d, 0), st.integers(0, 60)),
    ),
    max_size=5,
)


@settings(max_examples=120, deadline=None)
@given(st.integers(1_000, 100_000), st.integers(7, 60), events, st.integers(0, 120), st.integers(0, 120))
def test_bringing_a_loan_to_any_later_state_balances(
    principal: int, term: int, happened: list[tuple[str, int, int]], first: int, second: int
) -> None:
    """Posting the differences step by step (as close of business and payments do) balances at every step, and a
    write-off of what remains clears every receivable."""
    loan = SignedLoan(TERMS, principal, START, quote(TERMS, principal, term, START).schedule)
    engine_events: list[LoanEvent] = []
    for seq, (what, day, amount) in enumerate(happened):
        on = START + timedelta(days=day)
        if what == "pay":
            engine_events.append(Repayment(on, amount, seq=seq))
        elif what == "waive":
            engine_events.append(Waiver(on, Component.FINES, amount, seq=seq))
        else:
            engine_events.append(RateChange(on, Decimal("0.005"), seq=seq))
    posted = NOTHING_POSTED
    cash_seen = 0
    for day in sorted((first, second)):
        on = START + timedelta(days=day)
        target = state_as_of(loan, engine_events, on)
        cash = sum(e.amount for e in engine_events if isinstance(e, Repayment) and e.value_date <= on) - cash_seen
        postings = bring_to_state(target, posted, LOAN_ACCOUNTS, cash)
        assert balanced(postings)
        posted, cash_seen = posted_after(target), cash_seen + cash
    owed = {c: target.outstanding[c] for c in Component}
    assert balanced(write_off_postings(owed, LOAN_ACCOUNTS))
