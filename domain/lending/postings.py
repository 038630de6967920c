"""How a loan's accruals and corrections become ledger entries: each charge has a receivable account (what the
borrower owes, an asset) and an income account. Under the ledger's credit-positive convention, growing a
receivable is a negative amount and the matching income a positive one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from domain.ledger import EntryDraft, Posting
from domain.lending.engine import Component


@dataclass(frozen=True)
class LoanAccounts:
    currency: str
    receivable: dict[Component, int]  # per charge (and principal)
    income: dict[Component, int]  # per charge


def accrual_entry(
    differences: dict[Component, int],
    accounts: LoanAccounts,
    *,
    key: str,
    kind: str,
    value_date: date,
    corrects_entry_id: int | None = None,
) -> EntryDraft | None:
    """One balanced entry that brings the ledger to what the engine says (from `engine.amounts_to_post`): a daily
    accrual, or a recalculation's adjustment (negative differences reverse income). None when nothing differs, so an
    unchanged recalculation posts nothing."""
    postings: list[Posting] = []
    for component, amount in sorted(differences.items()):
        if amount == 0:
            continue
        postings.append(Posting(accounts.receivable[component], -amount, accounts.currency))
        postings.append(Posting(accounts.income[component], amount, accounts.currency))
    if not postings:
        return None
    return EntryDraft(
        key,
        kind,
        value_date,
        tuple(postings),
        corrects_entry_id=corrects_entry_id,
        metadata={"components": {c.value: a for c, a in differences.items() if a}},
    )
