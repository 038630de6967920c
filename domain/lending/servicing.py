"""The rules of servicing a funded loan that are not the engine's arithmetic: which business dates close of business
still has to close, which projected nights are worth a row, what the borrower is told when, and what one ledger
entry must hold to bring a loan's accounts to what the engine says.

A projected night is kept only when it posts something, changes the loan's status or carries a notice, so close of
business never visits a loan with nothing to do."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from domain.ledger import Posting
from domain.lending.engine import ACCRUING, CHARGES, Component, LoanState, ProjectedNight

REMINDER_DAYS_BEFORE_DUE = 3


class CobDateRefused(ValueError):
    """A business date that cannot be closed (already closed, or not yet over)."""


def dates_to_close(last_closed: date | None, until: date, first_open: date) -> list[date]:
    """Every business date from the first one not closed through `until`, in order. With nothing closed yet the
    first open date is where the book starts (the earliest loan, or today)."""
    start = last_closed + timedelta(days=1) if last_closed is not None else first_open
    if until < start:
        return []
    return [start + timedelta(days=n) for n in range((until - start).days + 1)]


@dataclass(frozen=True)
class NightRow:
    accrual_date: date
    interest: int
    penalty: int
    fines: int
    status: str | None  # set only when the night changes it
    overdue_since: date | None
    notice: str | None


def notice_for(night: ProjectedNight, thresholds: frozenset[int]) -> str | None:
    """What the borrower's loan workflow hears the morning after `night`: a reminder before the due date, the due
    date itself, or an overdue threshold (day 1 and every day the collections ladder acts on)."""
    morning = night.accrual_date + timedelta(days=1)
    if night.status == "overdue":
        if night.days_past_due == 1 or night.days_past_due in thresholds:
            return f"overdue:{night.days_past_due}"
        return None
    if night.status != "active" or night.next_due_date is None:
        return None
    if night.next_due_date == morning:
        return "due_today"
    if (night.next_due_date - morning).days == REMINDER_DAYS_BEFORE_DUE:
        return "due_soon"
    return None


def night_rows(nights: Iterable[ProjectedNight], status_now: str, thresholds: frozenset[int]) -> list[NightRow]:
    rows: list[NightRow] = []
    status = status_now
    for night in nights:
        notice = notice_for(night, thresholds)
        changed = night.status != status
        if changed or notice or any(night.increments.values()):
            overdue_since = (
                night.accrual_date + timedelta(days=1 - night.days_past_due) if night.days_past_due > 0 else None
            )
            rows.append(
                NightRow(
                    night.accrual_date,
                    night.increments[Component.INTEREST],
                    night.increments[Component.PENALTY],
                    night.increments[Component.FINES],
                    night.status if changed else None,
                    overdue_since,
                    notice,
                )
            )
        status = night.status
        if status in ("repaid", "written_off"):
            break
    return rows


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


__all__ = [
    "ACCRUING",
    "REMINDER_DAYS_BEFORE_DUE",
    "CobDateRefused",
    "LoanLedgerAccounts",
    "NightRow",
    "PostedState",
    "bring_to_state",
    "dates_to_close",
    "night_rows",
    "notice_for",
    "posted_after",
    "write_off_postings",
]
