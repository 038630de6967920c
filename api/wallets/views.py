"""Shaping wallets and transfers for answers (shared by the holder and staff routes)."""

from __future__ import annotations

from api.money import Amount
from api.wallets.schemas import TransferView, WalletView
from contracts.wallets import WalletTransferResult
from store.repositories.wallets import Wallet


def wallet_view(wallet: Wallet) -> WalletView:
    return WalletView(
        id=wallet.id,
        type=wallet.type_code,
        currency=wallet.currency,
        balance=Amount(amount=wallet.balance, currency=wallet.currency),
        available=Amount(amount=wallet.available, currency=wallet.currency),
    )


def transfer_view(result: WalletTransferResult) -> TransferView:
    return TransferView.model_validate(result.model_dump(exclude={"entry_id"}))
