"""Currency conversion. A rate says how many units of `quote` one unit of `base` buys (major units, as quoted
on every market). Converting scales by both currencies' exponents and rounds once, half-even, to the target's
minor unit; the rounding difference stays with the company's FX position, never with the customer's balance."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from domain.currency import minor_units
from domain.money import Money


class InvalidRate(ValueError):
    pass


@dataclass(frozen=True)
class FxRate:
    base: str
    quote: str
    rate: Decimal

    def __post_init__(self) -> None:
        minor_units(self.base)
        minor_units(self.quote)
        if self.base == self.quote:
            raise InvalidRate("a rate needs two different currencies")
        if not self.rate.is_finite() or self.rate <= 0:
            raise InvalidRate("a rate must be a positive number")

    def inverse(self) -> FxRate:
        return FxRate(self.quote, self.base, Decimal(1) / self.rate)


def convert(amount: Money, rate: FxRate) -> Money:
    if amount.currency == rate.base:
        multiplier, target = rate.rate, rate.quote
    elif amount.currency == rate.quote:
        multiplier, target = Decimal(1) / rate.rate, rate.base
    else:
        raise InvalidRate(f"a {rate.base}/{rate.quote} rate cannot convert {amount.currency}")
    exponent_shift = minor_units(target) - minor_units(amount.currency)
    exact = Decimal(amount.amount) * multiplier * Decimal(10) ** exponent_shift
    return Money(int(exact.to_integral_value(rounding=ROUND_HALF_EVEN)), target)
