"""Money: an integer number of minor units and an ISO 4217 currency. No float ever touches it, and arithmetic
that mixes currencies fails loudly instead of adding dollars to dong."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from domain.currency import minor_units


class CurrencyMismatch(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if type(self.amount) is not int:
            raise TypeError(f"money amounts are integers of minor units, not {type(self.amount).__name__}")
        minor_units(self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def major(self) -> Decimal:
        """The amount in major units (for display and exports only)."""
        return Decimal(self.amount).scaleb(-minor_units(self.currency))

    def percent(self, rate: Decimal, rounding: str = ROUND_HALF_EVEN) -> Money:
        """`rate` percent of this amount, rounded once to a whole minor unit (banker's rounding by default)."""
        return Money(int((Decimal(self.amount) * rate / 100).to_integral_value(rounding=rounding)), self.currency)


def format_money(amount: int, currency: str) -> str:
    """The one plain-text spelling of an amount ("1234.50 GBP", "-0.05 GBP", "50000 VND"): what SMS texts and the
    agreement print. Exact digits from integer minor units, never through binary floating point. (The web pages use
    the reader's locale; this is the locale-free form whose text a signature may cover.)"""
    exponent = minor_units(currency)
    if exponent == 0:
        return f"{amount} {currency}"
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**exponent)
    return f"{sign}{whole}.{part:0{exponent}d} {currency}"
