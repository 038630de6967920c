"""The rules a wallet type sets on transfers: minimum, maximum, fee. Limits and the fixed fee are stated in one
currency (the type's); a transfer in another currency is measured after conversion at the rate in force."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.money import Money


class TransferRefused(ValueError):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class TransferRules:
    min_amount: int
    max_amount: int | None
    fee_percent: Decimal
    fee_fixed: int

    def __post_init__(self) -> None:
        if self.min_amount < 0 or self.fee_fixed < 0 or self.fee_percent < 0 or self.fee_percent >= 100:
            raise ValueError("limits and fees are non-negative and the fee is below 100%")
        if self.max_amount is not None and self.max_amount < self.min_amount:
            raise ValueError("the maximum transfer is below the minimum")


def check_limits(amount: Money, rules: TransferRules, amount_in_rules_currency: int) -> None:
    """`amount_in_rules_currency`: the transfer measured in the currency the limits are stated in."""
    if amount.amount <= 0:
        raise TransferRefused("validation_error", "the amount must be positive")
    if amount_in_rules_currency < rules.min_amount:
        raise TransferRefused("limit_exceeded", "the amount is below the minimum transfer for this wallet type")
    if rules.max_amount is not None and amount_in_rules_currency > rules.max_amount:
        raise TransferRefused("limit_exceeded", "the amount is above the maximum transfer for this wallet type")


def transfer_fee(amount: Money, rules: TransferRules, fixed_fee_in_amount_currency: int) -> Money:
    """Percent of the amount, rounded half-up to a minor unit, plus the fixed part. Charged on top of the amount."""
    percent_part = int((Decimal(amount.amount) * rules.fee_percent / 100).to_integral_value(rounding=ROUND_HALF_UP))
    return Money(percent_part + fixed_fee_in_amount_currency, amount.currency)
