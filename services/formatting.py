"""How numbers are shown to a person, on the pages and in the messages they are sent: money in the reader's locale
from integer minor units (babel, never through float), dates and times, shares as percentages. The agreement
keeps the plain form of `domain.money.format_money` (its text is what the signature covers)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from domain.currency import minor_units


def money(amount: int | None, currency: str, locale: str = "en") -> str:
    if amount is None:
        return "—"
    exponent = minor_units(currency.strip())
    major = Decimal(int(amount)).scaleb(-exponent)
    return format_currency(major, currency.strip(), locale=locale, currency_digits=True)


def number(value: int | Decimal | None, locale: str = "en") -> str:
    return "—" if value is None else format_decimal(value, locale=locale)


def share(value: Decimal | str | None, locale: str = "en") -> str:
    """A fraction (0.1234) as a percentage (12.34%)."""
    if value is None or value == "":
        return "—"
    return format_percent(Decimal(str(value)), format="#,##0.##%", locale=locale)


def day(value: date | str | None, locale: str = "en") -> str:
    if value is None or value == "":
        return "—"
    found = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return format_date(found, format="medium", locale=locale)


def moment(value: datetime | str | None, zone: str = "UTC", locale: str = "en") -> str:
    if value is None or value == "":
        return "—"
    found = datetime.fromisoformat(value) if isinstance(value, str) else value
    return format_datetime(found, format="medium", tzinfo=ZoneInfo(zone), locale=locale)


def plain_amount(amount: int, currency: str) -> str:
    """Minor units as a plain decimal a spreadsheet reads (no grouping, no symbol): 123456 GBP → 1234.56."""
    exponent = minor_units(currency.strip())
    return format(Decimal(int(amount)).scaleb(-exponent), "f")
