"""The staff reports (daily, portfolio, trial balance, accountant, customers, CPA networks) as the API answers them
and the operator's `lendflow report` writes them: one place builds each, so the console's download and the shell's
file hold the same figures."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories import reports, servicing

ReportName = Literal["daily", "portfolio", "trial-balance", "accountant", "customers", "cpa"]
REPORT_NAMES: tuple[str, ...] = ("daily", "portfolio", "trial-balance", "accountant", "customers", "cpa")


@dataclass(frozen=True)
class Report:
    name: str
    body: dict[str, Any]  # the JSON answer
    lines: list[dict[str, Any]]  # one CSV row each
    day: date  # the date it is for

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.day.isoformat()}.csv"


async def build_report(
    session: AsyncSession,
    name: str,
    *,
    timezone: str,
    on: date | None = None,
    as_of: date | None = None,
    limit: int = 1_000,
    offset: int = 0,
) -> Report:
    today = await servicing.open_business_date(session, timezone)
    cal = await servicing.calendar(session)
    last_closed = cal.last_closed or today
    body: dict[str, Any]
    lines: list[dict[str, Any]]
    if name == "daily":
        day = on or last_closed
        figures = await reports.saved_daily(session, day) if day <= last_closed else None
        body = figures or await reports.daily(session, day)
        body["recorded_by_close_of_business"] = figures is not None
        lines = [{"date": body["date"], "currency": c, **f} for c, f in body["currencies"].items()]
    elif name == "portfolio":
        lines = await reports.portfolio(session, today)
        body = {"business_date": today.isoformat(), "products": lines}
    elif name == "trial-balance":
        day = as_of or on or today
        lines = await reports.trial_balance(session, day)
        totals: dict[str, int] = {}
        for line in lines:
            totals[line["currency"]] = totals.get(line["currency"], 0) + line["balance"]
        body = {"as_of": day.isoformat(), "lines": lines, "totals": totals}
    elif name == "accountant":
        day = on or last_closed
        lines = await reports.journal(session, day, limit, offset)
        body = {"date": day.isoformat(), "journal": lines, "trial_balance": await reports.trial_balance(session, day)}
    elif name == "customers":
        body = await reports.customers(session)
        lines = body["customers"]
    elif name == "cpa":
        lines = await reports.cpa(session)
        body = {"networks": lines}
    else:
        raise ValueError(f"no report {name!r}")
    return Report(name, body, lines, on or as_of or today)


def _flat(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= _flat(value, f"{name}.")
        elif isinstance(value, list):
            out[name] = ";".join(str(v) for v in value)
        else:
            out[name] = value
    return out


def csv_text(lines: list[dict[str, Any]]) -> str:
    """One row per line, nested figures flattened to dotted columns, columns in the order they first appear."""
    flat = [_flat(line) for line in lines]
    columns: list[str] = []
    for line in flat:
        columns += [c for c in line if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(flat)
    return buffer.getvalue()


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):  # sums of bigint columns come back as numeric
        return int(value) if value == value.to_integral_value() else str(value)
    if hasattr(value, "hex") and not isinstance(value, int | float | str | bytes):
        return str(value)
    return value
