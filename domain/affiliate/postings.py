"""Commission postings: partners' commission wallets (what the company owes them) against the project currency's
commission expense. A clawback is a negative net; partners whose lines net to nothing are left out."""

from __future__ import annotations

from collections.abc import Mapping

from domain.ledger import Posting


def commission_postings(
    nets: Mapping[str, int], wallet_accounts: Mapping[str, int], expense_account: int, currency: str
) -> list[Posting]:
    """Each partner's net into (or out of) their wallet, and the total against the expense account."""
    moving = {partner: amount for partner, amount in nets.items() if amount}
    postings = [Posting(wallet_accounts[partner], amount, currency) for partner, amount in moving.items()]
    total = sum(moving.values())
    if total:
        postings.append(Posting(expense_account, -total, currency))
    return postings
