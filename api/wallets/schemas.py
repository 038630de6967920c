from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.constrained import RequestBody
from api.money import Amount, CurrencyCode, PositiveMoney
from api.phone import PhoneNumber


class WalletView(BaseModel):
    id: uuid.UUID
    type: str
    currency: str
    balance: Amount
    available: Amount


class WalletList(BaseModel):
    data: list[WalletView]
    has_more: bool = False


class OpenWallet(RequestBody):
    type: str = Field(min_length=1, max_length=64)
    currency: CurrencyCode


class TransferRequest(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "from_wallet": "4f0c6c1e-0b7a-4c1d-9a57-1d7f3e0f2a10",
                    "to_phone": "+447700900123",
                    "amount": {"amount": 1000, "currency": "USD"},
                }
            ]
        }
    )

    from_wallet: uuid.UUID
    to_wallet: uuid.UUID | None = None
    to_user: uuid.UUID | None = Field(default=None, description="another user's wallet of the same type is credited")
    to_phone: PhoneNumber | None = Field(
        default=None, description="another user, by the phone they sign in with: their wallet of the same type"
    )
    amount: PositiveMoney

    @model_validator(mode="after")
    def _one_destination(self) -> TransferRequest:
        if sum(d is not None for d in (self.to_wallet, self.to_user, self.to_phone)) != 1:
            raise ValueError("give exactly one of to_wallet, to_user and to_phone")
        return self


class TransferView(BaseModel):
    id: str
    from_wallet: str
    to_wallet: str
    debited: Amount
    credited: Amount
    fee: Amount
    rate: str | None = None


class TransferPreview(BaseModel):
    from_wallet: str
    to_wallet: str
    debited: Amount = Field(description="what leaves the source wallet: the amount and the fee")
    credited: Amount = Field(description="what reaches the destination, converted when the currencies differ")
    fee: Amount
    rate: str | None = Field(default=None, description="units of the destination currency per unit of the source's")


class WalletStatementLine(BaseModel):
    posting_id: int
    entry_id: int
    kind: str = Field(description="wallet_transfer, topup, payout, bonus, commission_distribution, ...")
    value_date: date
    recorded_at: datetime
    amount: Amount = Field(description="credit positive, debit negative")
    balance_after: Amount
    reference: str = Field(
        description="what moved the money: transfer:<id>, topup-<id>, payout-<id>, bonus:<batch>:..."
    )


class WalletStatement(BaseModel):
    wallet_id: uuid.UUID
    data: list[WalletStatementLine]
    has_more: bool


class FxRateView(BaseModel):
    base: str
    quote: str
    rate: str
    valid_from: datetime


class FxRateList(BaseModel):
    data: list[FxRateView]
    has_more: bool = False
