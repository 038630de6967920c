"""Phone numbers as people type them on a sign-in page: in their national form with a country chosen beside it,
or in international form. Parsed and checked by libphonenumber (possible for the country, not a fixed line: the
sign-in code goes by SMS) and answered in E.164, the form the API and the stores use."""

from __future__ import annotations

import phonenumbers

# The countries offered first on the sign-in page (markets the lender works in); any other may be typed with +.
COUNTRIES: tuple[str, ...] = ("VN", "UA", "GB", "US", "PL", "DE")


class PhoneProblem(ValueError):
    """Why a typed number cannot be used: `not_a_number`, `not_possible` or `fixed_line`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_phone(typed: str, country: str | None) -> str:
    text = typed.strip()
    if not text or len(text) > 32 or any(c.isdigit() and not c.isascii() for c in text):
        # Digits of other scripts are refused as the API refuses them: two spellings must not reach one account.
        raise PhoneProblem("not_a_number")
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else (country or "").upper() or None)
    except phonenumbers.NumberParseException:
        raise PhoneProblem("not_a_number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise PhoneProblem("not_possible")
    if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.FIXED_LINE:
        raise PhoneProblem("fixed_line")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def country_of(phone: str) -> str | None:
    """The ISO country of a phone number in E.164 form (None when it names none)."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return None
