"""What a wallet transfer would be, before anything moves: the two wallets as they stand, the rate in force across
currencies, the wallet type's limits and fee. The transfer activity posts what this finds; the borrower's page
shows the same figures before they confirm (`POST /v1/transfers/preview`), so the preview cannot drift from what
is charged."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from domain.fx import FxRate, convert
from domain.money import Money
from domain.wallet_rules import TransferRefused, check_limits, transfer_fee
from domain.wallet_transfer import TransferAccounts, TransferPlan, plan_transfer
from store.repositories import wallets as wallet_store


@dataclass(frozen=True)
class TransferTerms:
    source: wallet_store.Wallet
    destination: wallet_store.Wallet
    amount: Money
    fee: Money
    rate: FxRate | None


async def transfer_terms(
    session: AsyncSession,
    from_wallet: uuid.UUID,
    to_wallet: uuid.UUID,
    amount: Money,
    mode: str,
    initiated_by: uuid.UUID,
    now: datetime,
) -> TransferTerms:
    """Raises `TransferRefused` with the API's error code for whatever the transfer may not do."""
    found = await wallet_store.wallets_by_ids(session, [from_wallet, to_wallet])
    source, destination = found.get(from_wallet), found.get(to_wallet)
    if source is None or destination is None:
        raise TransferRefused("not_found", "no such wallet")
    if source.id == destination.id:
        raise TransferRefused("validation_error", "a transfer needs two different wallets")
    if mode != "staff" and source.owner_id != initiated_by:
        raise TransferRefused("not_found", "no such wallet")
    if mode == "own" and destination.owner_id != initiated_by:
        raise TransferRefused("forbidden", "the destination wallet is not yours")
    if amount.currency != source.currency:
        raise TransferRefused("validation_error", f"the amount must be in the wallet's currency {source.currency}")
    rate = None
    if destination.currency != source.currency:
        rate = await wallet_store.rate_in_force(session, source.currency, destination.currency, now)
        if rate is None:
            raise TransferRefused("validation_error", f"no rate is set for {source.currency}/{destination.currency}")
    fee = Money.zero(amount.currency)
    if mode != "staff":
        wallet_type = await wallet_store.wallet_type(session, source.type_code)
        assert wallet_type is not None
        fee = await _fee_within_rules(session, amount, wallet_type, now)
    return TransferTerms(source, destination, amount, fee, rate)


async def _fee_within_rules(
    session: AsyncSession, amount: Money, wallet_type: wallet_store.WalletType, now: datetime
) -> Money:
    rules = wallet_type.rules
    in_rules_currency = amount.amount
    fixed_fee = rules.fee_fixed
    if wallet_type.rules_currency != amount.currency:
        rate = await wallet_store.rate_in_force(session, amount.currency, wallet_type.rules_currency, now)
        if rate is None:
            raise TransferRefused(
                "validation_error", f"no rate is set for {amount.currency}/{wallet_type.rules_currency}"
            )
        in_rules_currency = convert(amount, rate).amount
        fixed_fee = convert(Money(rules.fee_fixed, wallet_type.rules_currency), rate).amount
    check_limits(amount, rules, in_rules_currency)
    return transfer_fee(amount, rules, fixed_fee)


def previewed(terms: TransferTerms) -> TransferPlan:
    """The amounts the transfer would move. The accounts are placeholders: which ledger accounts take the postings
    does not change a figure, and a preview posts nothing."""
    accounts = TransferAccounts(
        source=0,
        destination=0,
        fee_income=0 if terms.fee.amount else None,
        fx_position={terms.source.currency: 0, terms.destination.currency: 0} if terms.rate is not None else None,
    )
    return plan_transfer(terms.amount, terms.destination.currency, terms.fee, accounts, terms.rate)
