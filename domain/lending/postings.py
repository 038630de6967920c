"""A loan's posting recipes: what the ledger must hold to follow the engine. Each charge has a receivable account
(what the borrower owes, an asset) and an income account from the chart (`domain/accounts.py`); under the ledger's
credit-positive convention growing a receivable is a negative amount and the matching income a positive one.

Pure functions from amounts and account ids to balanced postings, so the balance rule is property-tested here and
the activities only fetch accounts and post."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.ledger import Posting
from domain.lending.engine import CHARGES, Component, LoanState


@dataclass(frozen=True)
class DisbursementAccounts:
    currency: str
    principal_receivable: int
    fee_receivable: int
    fee_income: int
    settlement: int


def disbursement_postings(principal: int, origination_fee: int, accounts: DisbursementAccounts) -> list[Posting]:
    """The principal leaves the settlement account for the borrower's card; an origination fee is owed from day
    one and earned at once."""
    currency = accounts.currency
    postings = [
        Posting(accounts.principal_receivable, -principal, currency),
        Posting(accounts.settlement, principal, currency),
    ]
    if origination_fee:
        postings += [
            Posting(accounts.fee_receivable, -origination_fee, currency),
            Posting(accounts.fee_income, origination_fee, currency),
        ]
    return postings


@dataclass(frozen=True)
class PostedState:
    """What the ledger holds for a loan, in the engine's terms: charges posted, and what was paid and waived per
    component (kept on the loan row in the same transaction as the entries that change them)."""

    accrued: Mapping[Component, int]
    paid: Mapping[Component, int]
    waived: Mapping[Component, int]
    overpayment: int


@dataclass(frozen=True)
class LoanLedgerAccounts:
    currency: str
    receivable: Mapping[Component, int]
    income: Mapping[Component, int]  # per charge
    settlement: int
    loss: int
    wallet: int | None  # where an overpayment goes; required only when there is one


def bring_to_state(target: LoanState, posted: PostedState, accounts: LoanLedgerAccounts, cash_in: int) -> list[Posting]:
    """The postings that move the loan's accounts from `posted` to `target`, given `cash_in` received with the
    change (a repayment). Charges differ → receivable against income; payments → receivable against settlement;
    waivers → receivable against income (principal: against the loss account); overpayment → the borrower's
    wallet. Balanced whenever the engine conserves money (what was paid plus overpaid grows by the cash)."""
    currency = accounts.currency
    postings: list[Posting] = []

    def add(account: int, amount: int) -> None:
        if amount:
            postings.append(Posting(account, amount, currency))

    for component in CHARGES:
        grown = target.accrued[component] - posted.accrued.get(component, 0)
        add(accounts.receivable[component], -grown)
        add(accounts.income[component], grown)
    for component in Component:
        add(accounts.receivable[component], target.paid[component] - posted.paid.get(component, 0))
        waived = target.waived[component] - posted.waived.get(component, 0)
        add(accounts.receivable[component], waived)
        add(accounts.loss if component is Component.PRINCIPAL else accounts.income[component], -waived)
    overpaid = target.overpayment - posted.overpayment
    if overpaid:
        if accounts.wallet is None:
            raise ValueError("an overpayment needs the borrower's wallet")
        add(accounts.wallet, overpaid)
    add(accounts.settlement, -cash_in)
    return postings


def posted_after(target: LoanState) -> PostedState:
    return PostedState(
        accrued={c: target.accrued[c] for c in CHARGES},
        paid=dict(target.paid),
        waived=dict(target.waived),
        overpayment=target.overpayment,
    )


def write_off_postings(owed: Mapping[Component, int], accounts: LoanLedgerAccounts) -> list[Posting]:
    """Everything still owed moves to the loss account: the receivables are cleared, the loss is an expense."""
    postings = [Posting(accounts.receivable[c], amount, accounts.currency) for c, amount in owed.items() if amount]
    total = sum(owed.values())
    if total:
        postings.append(Posting(accounts.loss, -total, accounts.currency))
    return postings
