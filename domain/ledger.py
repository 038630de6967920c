"""The rules of the double-entry ledger, independent of where it is stored.

Sign convention: a posting's amount is credit-positive. Crediting a wallet (the company owes its holder more) is a
positive amount; the matching debit to a cash or expense account is negative. Every entry sums to zero in each
currency, so the whole ledger always does. Asset and expense accounts therefore carry negative balances in the
natural course; reports show each kind on its normal side.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from domain.currency import MINOR_UNITS, minor_units


class AccountKind(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    INCOME = "income"
    EXPENSE = "expense"
    EQUITY = "equity"


# Which sign a healthy balance of each kind has under the credit-positive convention.
NORMAL_SIGN = {
    AccountKind.ASSET: -1,
    AccountKind.EXPENSE: -1,
    AccountKind.LIABILITY: 1,
    AccountKind.INCOME: 1,
    AccountKind.EQUITY: 1,
}


class UnbalancedEntry(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Posting:
    account_id: int
    amount: int
    currency: str


@dataclass(frozen=True)
class EntryDraft:
    """A journal entry before it is posted. `idempotency_key` makes posting it twice harmless."""

    idempotency_key: str
    kind: str
    value_date: date
    postings: tuple[Posting, ...]
    corrects_entry_id: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A draft that exists balances: nothing downstream has to check again.
        validate_postings(self.postings)

    def content_hash(self) -> bytes:
        """What makes two posts with one key "the same request": kind, value date, correction link and postings
        (in any order). Metadata is description, not content. (The repr of plain ints, strings and None is stable
        and the cheapest canonical form: the bulk path hashes every one of hundreds of thousands of entries.)"""
        legs = sorted([(p.account_id, p.amount, p.currency) for p in self.postings])
        canonical = repr((self.kind, self.value_date.toordinal(), self.corrects_entry_id, legs))
        return hashlib.sha256(canonical.encode()).digest()


def validate_postings(postings: Sequence[Posting]) -> None:
    """An entry has at least two postings, no zero amounts, known currencies, and sums to zero per currency.
    (Written for speed: the bulk path validates every one of hundreds of thousands of entries.)"""
    if len(postings) < 2:
        raise UnbalancedEntry("an entry needs at least two postings")
    totals: dict[str, int] = {}
    for posting in postings:
        amount = posting.amount
        if type(amount) is not int or amount == 0:
            raise UnbalancedEntry("posting amounts are non-zero integers of minor units")
        currency = posting.currency
        if currency not in MINOR_UNITS:
            minor_units(currency)  # raises UnknownCurrency
        totals[currency] = totals.get(currency, 0) + amount
    for currency, total in totals.items():
        if total != 0:
            raise UnbalancedEntry(f"the entry does not balance in {currency}: {total}")


def net_by_account(postings: Iterable[Posting]) -> dict[int, int]:
    """Each account's net change; what the balances move by."""
    net: dict[int, int] = {}
    for posting in postings:
        net[posting.account_id] = net.get(posting.account_id, 0) + posting.amount
    return net


def transfer(
    idempotency_key: str,
    kind: str,
    value_date: date,
    debit_account: int,
    credit_account: int,
    amount: int,
    currency: str,
    **metadata: Any,
) -> EntryDraft:
    """The common two-posting entry: `amount` moves from `debit_account` to `credit_account`."""
    postings = (Posting(debit_account, -amount, currency), Posting(credit_account, amount, currency))
    return EntryDraft(idempotency_key, kind, value_date, postings, metadata=metadata)
