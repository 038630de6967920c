"""A client platform's events in its own shape, mapped onto ours by the integration's mapping (configured by staff):
where each of our fields sits in theirs (a dotted path into JSON, or a CSV column), how their event types name
ours, how their amounts scale to minor units, their date format, and the currency when they leave it out.

Each event is mapped on its own: a bad one is refused with a reason and never takes its neighbours down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

KINDS = frozenset({"registration", "deposit", "withdrawal", "bonus", "revenue", "refund", "chargeback"})
# `reverses`: the client's id of the event a refund or chargeback takes back.
FIELDS = ("event_id", "kind", "user", "amount", "currency", "occurred_at", "referral_code", "reverses")


class MappingInvalid(ValueError):
    pass


@dataclass(frozen=True)
class EventMapping:
    fields: Mapping[str, str]  # our field -> their path ("data.player.id") or CSV column
    kinds: Mapping[str, str]  # their type -> our kind
    amount_scale: int = 2  # their amounts are major units with this many decimals (0: already minor units)
    amounts_in_minor_units: bool = False
    date_format: str | None = None  # strptime format; None: ISO 8601 or Unix seconds
    default_currency: str | None = None

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> EventMapping:
        fields = dict(stored.get("fields") or {})
        missing = [f for f in ("event_id", "kind", "user", "occurred_at") if f not in fields]
        unknown = [f for f in fields if f not in FIELDS]
        bad_kinds = [k for k in (stored.get("kinds") or {}).values() if k not in KINDS]
        problems = (
            ([f"fields missing: {', '.join(missing)}"] if missing else [])
            + ([f"unknown fields: {', '.join(unknown)}"] if unknown else [])
            + ([f"unknown kinds: {', '.join(bad_kinds)}"] if bad_kinds else [])
        )
        if problems:
            raise MappingInvalid("; ".join(problems))
        return cls(
            fields,
            dict(stored.get("kinds") or {}),
            int(stored.get("amount_scale", 2)),
            bool(stored.get("amounts_in_minor_units", False)),
            stored.get("date_format"),
            stored.get("default_currency"),
        )


@dataclass(frozen=True)
class MappedEvent:
    event_id: str
    kind: str
    user: str
    amount: int
    currency: str | None
    occurred_at: datetime
    referral_code: str | None
    reverses: str | None = None


def _at(payload: Any, path: str) -> Any:
    value = payload
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def client_event_id(payload: Mapping[str, Any], mapping: EventMapping) -> str | None:
    """The client's own id of an event, even of one refused, so their answer names it."""
    found = _at(payload, mapping.fields["event_id"])
    return None if found in (None, "") else str(found)


def map_event(payload: Mapping[str, Any], mapping: EventMapping) -> MappedEvent | str:
    """The event in our terms, or the reason it is refused."""
    raw = {name: _at(payload, path) for name, path in mapping.fields.items()}
    for required in ("event_id", "kind", "user", "occurred_at"):
        if raw.get(required) in (None, ""):
            return f"missing field: {required}"
    kind = mapping.kinds.get(str(raw["kind"]), str(raw["kind"]))
    if kind not in KINDS:
        return f"unknown event type: {raw['kind']}"
    amount = 0
    if kind != "registration":
        try:
            value = Decimal(str(raw.get("amount")))
            amount_exact = value if mapping.amounts_in_minor_units else value.scaleb(mapping.amount_scale)
        except (InvalidOperation, ValueError):
            return "bad amount"
        if amount_exact != amount_exact.to_integral_value() or not amount_exact.is_finite() or amount_exact < 0:
            return "bad amount"
        amount = int(amount_exact)
    occurred = _when(raw["occurred_at"], mapping.date_format)
    if occurred is None:
        return "bad date"
    currency = raw.get("currency") or mapping.default_currency
    if kind != "registration" and not currency:
        return "missing field: currency"
    code, reversed_id = raw.get("referral_code"), raw.get("reverses")
    return MappedEvent(
        str(raw["event_id"]),
        kind,
        str(raw["user"]),
        amount,
        str(currency).upper() if currency else None,
        occurred,
        str(code) if code else None,
        str(reversed_id) if reversed_id not in (None, "") else None,
    )


def _when(value: Any, date_format: str | None) -> datetime | None:
    try:
        if date_format:
            parsed = datetime.strptime(str(value), date_format)
        elif isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
            parsed = datetime.fromtimestamp(int(value), UTC)
        else:
            parsed = datetime.fromisoformat(str(value))
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
