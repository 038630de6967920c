"""ISO 4217 currencies and their minor-unit exponents: VND has none, USD two, KWD three.

The table holds the active codes a lender or payout business meets; a code that is not here is refused rather than
guessed, because a wrong exponent scales every amount by a power of ten.
"""

from __future__ import annotations

# ISO 4217 minor units (the "E" column of the standard's list one).
MINOR_UNITS: dict[str, int] = {
    # exponent 0
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    # exponent 3
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    # exponent 4
    "CLF": 4,
    "UYW": 4,
    # exponent 2
    "AED": 2,
    "AMD": 2,
    "ARS": 2,
    "AUD": 2,
    "AZN": 2,
    "BAM": 2,
    "BDT": 2,
    "BGN": 2,
    "BRL": 2,
    "BYN": 2,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "COP": 2,
    "CZK": 2,
    "DKK": 2,
    "DZD": 2,
    "EGP": 2,
    "EUR": 2,
    "GBP": 2,
    "GEL": 2,
    "GHS": 2,
    "HKD": 2,
    "HUF": 2,
    "IDR": 2,
    "ILS": 2,
    "INR": 2,
    "KES": 2,
    "KGS": 2,
    "KZT": 2,
    "LKR": 2,
    "MAD": 2,
    "MDL": 2,
    "MXN": 2,
    "MYR": 2,
    "NGN": 2,
    "NOK": 2,
    "NZD": 2,
    "PEN": 2,
    "PHP": 2,
    "PKR": 2,
    "PLN": 2,
    "QAR": 2,
    "RON": 2,
    "RSD": 2,
    "RUB": 2,
    "SAR": 2,
    "SEK": 2,
    "SGD": 2,
    "THB": 2,
    "TJS": 2,
    "TRY": 2,
    "TWD": 2,
    "TZS": 2,
    "UAH": 2,
    "USD": 2,
    "UZS": 2,
    "ZAR": 2,
    "ZMW": 2,
}


class UnknownCurrency(ValueError):
    pass


def minor_units(currency: str) -> int:
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise UnknownCurrency(f"{currency!r} is not an ISO 4217 currency this platform knows") from None


def is_known_currency(currency: str) -> bool:
    return currency in MINOR_UNITS
