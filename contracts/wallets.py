"""Inputs and results of wallet activities and workflows; imported by workflows, so nothing heavy here."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class MoneyModel(BaseModel):
    amount: int
    currency: str


class WalletTransferInput(BaseModel):
    transfer_id: str
    from_wallet: str
    to_wallet: str
    amount: MoneyModel
    # "own": between the caller's wallets; "p2p": to another user; "staff": any two wallets, no fee or limits.
    mode: Literal["own", "p2p", "staff"]
    initiated_by: str
    reason: str | None = None


class WalletTransferResult(BaseModel):
    id: str
    entry_id: int
    from_wallet: str
    to_wallet: str
    debited: MoneyModel
    credited: MoneyModel
    fee: MoneyModel
    rate: str | None = None


class BonusCredit(BaseModel):
    wallet_id: str
    amount: int | None = None
    points: int | None = None


class BonusCreditInput(BaseModel):
    batch_id: str
    currency: str
    # Minor units of `currency` per point, a decimal string (points are converted, then rounded half-even once).
    points_rate: str | None = None
    reason: str
    # Batches sent before they were stored carried their credits here; a stored batch (`stored`) is read by the
    # activity from `bonus_batch_credits`, so the input stays small whatever the batch's size.
    credits: list[BonusCredit] = Field(default_factory=list)
    stored: bool = False


class BonusCreditResult(BaseModel):
    batch_id: str
    credited: int
    replayed: int
    total: MoneyModel


class HoldSweep(BaseModel):
    """A sweep of holds whose time ran out (the `holds-expiry` Schedule, every minute); fields may come later."""
