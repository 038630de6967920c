"""Phone numbers as the API accepts them: E.164 (`+` and 8 to 15 digits), spaces and dashes tolerated."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def normalise_phone(value: str) -> str:
    compact = re.sub(r"[\s\-().]", "", value)
    if not _E164.match(compact):
        raise ValueError("must be an E.164 phone number, such as +447700900123")
    return compact


PhoneNumber = Annotated[str, AfterValidator(normalise_phone)]
