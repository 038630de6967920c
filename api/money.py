"""Money as the API speaks it: `{"amount": <int minor units>, "currency": "<ISO 4217>"}`. Floats and numeric
strings are refused rather than guessed at."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StrictInt

from api.constrained import RequestBody
from domain.currency import is_known_currency


def known_currency(value: str) -> str:
    if not is_known_currency(value):
        raise ValueError(f"{value!r} is not an ISO 4217 currency this platform knows")
    return value


MAX_DECIMAL = Decimal(10) ** 12
MAX_DECIMAL_PLACES = 12  # what every numeric column that holds a rate or share keeps


def decimal_string(value: str) -> str:
    """A decimal written as a string, within what the platform stores: below 10^12 in size and with at most 12
    decimal places (so `1e999999`, `1e-999999` and `NaN` are refused rather than overflowing a column)."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError('must be a decimal number written as a string, such as "1.5"') from None
    if not number.is_finite():
        raise ValueError("must be a finite number")
    if abs(number) >= MAX_DECIMAL:
        raise ValueError("must be smaller than 10^12")
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_DECIMAL_PLACES:
        raise ValueError(f"may have at most {MAX_DECIMAL_PLACES} decimal places")
    return value


CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(known_currency)]
DecimalString = Annotated[str, Field(max_length=40), AfterValidator(decimal_string)]


class Money(RequestBody):
    amount: StrictInt = Field(ge=0, le=10**15)
    currency: CurrencyCode


class PositiveMoney(Money):
    amount: StrictInt = Field(gt=0, le=10**15)


class Amount(BaseModel):
    """Money in an answer: may be negative (a wallet type that allows it, a house account)."""

    amount: int
    currency: str
