"""How a wallet transfer becomes postings: the sender pays the amount plus the fee; the fee goes to the company's
fee income; across currencies the amount passes through one FX position account per currency, so each currency
balances on its own and the rounding of the conversion stays with the company."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.fx import FxRate, convert
from domain.ledger import Posting
from domain.money import Money


@dataclass(frozen=True)
class TransferAccounts:
    source: int
    destination: int
    fee_income: int | None = None
    # FX position account per currency, needed only when the currencies differ.
    fx_position: dict[str, int] | None = None


@dataclass(frozen=True)
class TransferPlan:
    debited: Money
    credited: Money
    fee: Money
    rate: Decimal | None
    postings: tuple[Posting, ...]


def plan_transfer(
    amount: Money, destination_currency: str, fee: Money, accounts: TransferAccounts, rate: FxRate | None
) -> TransferPlan:
    if amount.amount <= 0:
        raise ValueError("a transfer moves a positive amount")
    if fee.currency != amount.currency or fee.amount < 0:
        raise ValueError("the fee is a non-negative amount in the sender's currency")
    debited = amount + fee
    postings = [Posting(accounts.source, -debited.amount, amount.currency)]
    if fee.amount:
        if accounts.fee_income is None:
            raise ValueError("a fee needs a fee income account")
        postings.append(Posting(accounts.fee_income, fee.amount, fee.currency))
    if destination_currency == amount.currency:
        credited = amount
    else:
        if rate is None or accounts.fx_position is None:
            raise ValueError("a transfer across currencies needs a rate and FX position accounts")
        credited = convert(amount, rate)
        if credited.currency != destination_currency:
            raise ValueError("the rate does not convert into the destination currency")
        if credited.amount <= 0:
            raise ValueError("the amount is too small to convert")
        postings.append(Posting(accounts.fx_position[amount.currency], amount.amount, amount.currency))
        postings.append(Posting(accounts.fx_position[destination_currency], -credited.amount, destination_currency))
    postings.append(Posting(accounts.destination, credited.amount, destination_currency))
    effective_rate = None if rate is None or destination_currency == amount.currency else _rate_from(rate, amount)
    return TransferPlan(debited, credited, fee, effective_rate, tuple(postings))


def _rate_from(rate: FxRate, amount: Money) -> Decimal:
    """The rate as the sender sees it: units of the destination currency per unit of theirs."""
    return rate.rate if rate.base == amount.currency else Decimal(1) / rate.rate
