from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.money import Amount, CurrencyCode, PositiveMoney


class WalletView(BaseModel):
    id: uuid.UUID
    type: str
    currency: str
    balance: Amount
    available: Amount


class WalletList(BaseModel):
    data: list[WalletView]
    has_more: bool = False


class OpenWallet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1, max_length=64)
    currency: CurrencyCode


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_wallet: uuid.UUID
    to_wallet: uuid.UUID | None = None
    to_user: uuid.UUID | None = Field(default=None, description="another user's wallet of the same type is credited")
    amount: PositiveMoney

    @model_validator(mode="after")
    def _one_destination(self) -> TransferRequest:
        if (self.to_wallet is None) == (self.to_user is None):
            raise ValueError("give exactly one of to_wallet and to_user")
        return self


class TransferView(BaseModel):
    id: str
    from_wallet: str
    to_wallet: str
    debited: Amount
    credited: Amount
    fee: Amount
    rate: str | None = None
