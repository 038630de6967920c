"""`GET /v1/staff/reports/{name}`: daily, portfolio, trial-balance, accountant, customers, cpa. JSON by default,
CSV with `Accept: text/csv` (one row per line of the report, nested figures flattened to dotted columns)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from api.dependencies import Db, Resources, StaffWith
from store.repositories import reports, servicing

router = APIRouter(prefix="/v1/staff/reports", tags=["staff: reports"])

ReportName = Literal["daily", "portfolio", "trial-balance", "accountant", "customers", "cpa"]


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


def _csv(lines: list[dict[str, Any]], filename: str) -> Response:
    flat = [_flat(line) for line in lines]
    columns: list[str] = []
    for line in flat:
        columns += [c for c in line if c not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(flat)
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )


@router.get("/{name}")
async def report(
    name: ReportName,
    request: Request,
    _: StaffWith("accountant"),
    db: Db,
    resources: Resources,
    on: date | None = Query(default=None, alias="date"),
    as_of: date | None = None,
    limit: int = Query(default=1_000, ge=1, le=100_000),
    offset: int = Query(default=0, ge=0, le=1_000_000),
) -> Response:
    today = await servicing.open_business_date(db, resources.settings.market_timezone)
    cal = await servicing.calendar(db)
    last_closed = cal.last_closed or today
    body: dict[str, Any]
    lines: list[dict[str, Any]]
    if name == "daily":
        day = on or last_closed
        figures = await reports.saved_daily(db, day) if day <= last_closed else None
        body = figures or await reports.daily(db, day)
        body["recorded_by_close_of_business"] = figures is not None
        lines = [{"date": body["date"], "currency": c, **f} for c, f in body["currencies"].items()]
    elif name == "portfolio":
        lines = await reports.portfolio(db, today)
        body = {"business_date": today.isoformat(), "products": lines}
    elif name == "trial-balance":
        day = as_of or on or today
        lines = await reports.trial_balance(db, day)
        totals: dict[str, int] = {}
        for line in lines:
            totals[line["currency"]] = totals.get(line["currency"], 0) + line["balance"]
        body = {"as_of": day.isoformat(), "lines": lines, "totals": totals}
    elif name == "accountant":
        day = on or last_closed
        lines = await reports.journal(db, day, limit, offset)
        body = {"date": day.isoformat(), "journal": lines, "trial_balance": await reports.trial_balance(db, day)}
    elif name == "customers":
        body = await reports.customers(db)
        lines = body["customers"]
    else:
        lines = await reports.cpa(db)
        body = {"networks": lines}
    if "text/csv" in request.headers.get("accept", ""):
        return _csv(lines, f"{name}-{(on or as_of or today).isoformat()}")
    return JSONResponse(_jsonable(body))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):  # sums of bigint columns come back as numeric
        return int(value) if value == value.to_integral_value() else str(value)
    if hasattr(value, "hex") and not isinstance(value, int | float | str | bytes):
        return str(value)
    return value
