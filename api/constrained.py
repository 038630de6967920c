"""The shapes request fields are held to, in one place, so that no field anywhere takes an unbounded number, an
unbounded string, a date outside the platform's window or a number spelled as a string. Money is integer minor
units (`api.money`), rates are bounded decimal strings (`api.money.DecimalString`), phones are E.164
(`api.phone`); what a route counts, pages or names comes from here. Control characters never reach a field: the
body guard (`api.body_guard`) refuses them for every request."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Self

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

MAX_DB_INT = 2**63 - 1  # a bigint column's largest value: ids and cursors beyond it cannot exist
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)  # business dates the platform deals in

MinorUnits = Annotated[StrictInt, Field(gt=0, le=10**15, description="integer minor units")]
MinorUnitsOrZero = Annotated[StrictInt, Field(ge=0, le=10**15, description="integer minor units")]
Count = Annotated[StrictInt, Field(ge=0, le=1_000_000)]
Days = Annotated[StrictInt, Field(ge=0, le=36_500)]
PositiveDays = Annotated[StrictInt, Field(gt=0, le=36_500)]
Score = Annotated[StrictInt, Field(ge=0, le=1_000)]
DbId = Annotated[int, Field(ge=1, le=MAX_DB_INT)]
Offset = Annotated[int, Field(ge=0, le=1_000_000)]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Reason = Annotated[str, Field(min_length=3, max_length=500)]
PathName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]  # codes and names in URLs
PathPeriod = Annotated[str, Path(min_length=4, max_length=16, pattern=r"^[0-9A-Za-z-]+$")]


def _within_window(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return value


def _aware_within_window(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("needs a time zone (such as Z or +02:00)")
    _within_window(value.astimezone(UTC).date())
    return value


def _born(value: date) -> date:
    if not date(1900, 1, 1) <= value <= date.today():
        raise ValueError("must be a birth date between 1900-01-01 and today")
    return value


BusinessDate = Annotated[date, AfterValidator(_within_window)]
Instant = Annotated[datetime, AfterValidator(_aware_within_window)]
BirthDate = Annotated[date, AfterValidator(_born)]


def _wants_int(annotation: object) -> bool:
    if annotation is int:
        return True
    return any(arg is int for arg in getattr(annotation, "__args__", ()))


def _loose_number(value: object) -> bool:
    return isinstance(value, bool | str | float)


class RequestBody(BaseModel):
    """The base of every request body: unknown fields are refused; an integer field takes a JSON integer only
    (never `"1000"`, `1e2` or `true`: money and counts are not guessed at); every date and time lies within the
    years 1900..2199 and every time carries its zone."""

    # Choices are the domain's enums (one source for each list); the validated value is their plain string.
    model_config = ConfigDict(extra="forbid", use_enum_values=True)

    @field_validator("*", mode="before")
    @classmethod
    def _integers_are_integers(cls, value: Any, info: ValidationInfo) -> Any:
        name = info.field_name
        annotation = cls.model_fields[name].annotation if name is not None else None
        if _wants_int(annotation):
            loose = _loose_number(value) or (isinstance(value, list) and any(map(_loose_number, value)))
            if loose:
                raise ValueError("must be a JSON integer (not a string, a decimal number or a boolean)")
        return value

    @model_validator(mode="after")
    def _dates_within_the_window(self) -> Self:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, date):  # datetimes too
                _wide_window(value)
        return self


def _wide_window(value: date | datetime) -> None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("times need a time zone (such as Z or +02:00)")
        value = value.astimezone(UTC).date()
    if not date(1900, 1, 1) <= value <= LATEST:
        raise ValueError(f"dates must lie between 1900-01-01 and {LATEST}")
