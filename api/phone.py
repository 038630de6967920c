"""Phone numbers as the API accepts them: E.164 written in ASCII digits (spaces, dashes, dots and brackets
tolerated), parsed by `phonenumbers` and answered back in E.164 form.

Digits from other scripts (fullwidth, Arabic-Indic, Devanagari...) are refused: libphonenumber would read them as
the ASCII digits they look like, so two spellings would reach one account. Numbers must be possible for their
country (right length and prefix); `is_valid_number` is not required, because it refuses the ranges regulators
reserve for tests and fiction (Ofcom's 07700 900xxx), which the demo and the tests use."""

from __future__ import annotations

import re
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, Field

_WRITTEN = re.compile(r"^\+[0-9 ().\-]{8,24}$")


def normalise_phone(value: str) -> str:
    if not _WRITTEN.match(value):
        raise ValueError("must be an E.164 phone number in ASCII digits, such as +447700900123")
    try:
        parsed = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError("must be an E.164 phone number, such as +447700900123") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError("is not a possible phone number for its country")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


PhoneNumber = Annotated[str, Field(max_length=32), AfterValidator(normalise_phone)]
