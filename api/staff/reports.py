"""`GET /v1/staff/reports/{name}`: daily, portfolio, trial-balance, accountant, customers, cpa. JSON by default,
CSV with `Accept: text/csv` (one row per line of the report, nested figures flattened to dotted columns)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from api.dependencies import Db, Resources, StaffWith
from services.reports import ReportName, build_report, csv_text, jsonable

router = APIRouter(prefix="/v1/staff/reports", tags=["staff: reports"])


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
    found = await build_report(
        db, name, timezone=resources.settings.market_timezone, on=on, as_of=as_of, limit=limit, offset=offset
    )
    if "text/csv" in request.headers.get("accept", ""):
        return Response(
            csv_text(found.lines),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
        )
    return JSONResponse(jsonable(found.body))
