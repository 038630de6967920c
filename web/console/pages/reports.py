"""Reports on screen, each with its chart where a chart says more than the table, and a CSV download of exactly
what the API serves (the trial balance's CSV nets to zero per currency, as the ledger does)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services import formatting
from web import charts
from web.console.pages.common import Signed, api, page

router = APIRouter()
REPORTS = {
    "daily": "Daily: issued, repaid, accrued, cash in and out",
    "portfolio": "Portfolio: outstanding and overdue by product",
    "trial-balance": "Trial balance",
    "accountant": "Accountant: the day's journal",
    "customers": "Customers",
    "cpa": "CPA networks",
}


def _chart(name: str, body: dict[str, Any]) -> Any:
    if name == "portfolio":
        return [
            charts.bars(
                f"{p['product']} ({p['currency']}) by days past due",
                [(bucket, figures["outstanding"]) for bucket, figures in p["buckets"].items()],
                lambda v, c=p["currency"]: formatting.money(v, c),
            )
            for p in body.get("products", [])
        ]
    if name == "trial-balance":
        by_currency: dict[str, list[tuple[str, int]]] = {}
        for line in body.get("lines", []):
            by_currency.setdefault(line["currency"], []).append((line["account"], abs(line["balance"])))
        return [
            charts.bars(f"Balances ({c})", lines, lambda v, c=c: formatting.money(v, c))
            for c, lines in by_currency.items()
        ]
    if name == "daily":
        return [
            charts.bars(
                f"{body.get('date')} ({c})",
                [
                    (k.replace("_", " "), int(v))
                    for k, v in figures.items()
                    if isinstance(v, int) and k != "overdue_count"
                ],
                lambda v, c=c: formatting.money(v, c),
                width=720,
            )
            for c, figures in body.get("currencies", {}).items()
        ]
    if name == "cpa":
        return [
            charts.bars(
                "Conversions by network",
                [(f"{n['network']} {n['status']}", int(n["conversions"])) for n in body.get("networks", [])],
            )
        ]
    return []


def _params(on: str, as_of: str) -> dict[str, str]:
    return {k: v for k, v in (("date", on), ("as_of", as_of)) if v}


@router.get("/reports", response_class=HTMLResponse)
async def reports(console: Signed, name: str = "daily", on: str = "", as_of: str = "") -> HTMLResponse:
    console.require("accountant")
    name = name if name in REPORTS else "daily"
    async with api(console) as client:
        body = await client.get(f"/v1/staff/reports/{name}", **_params(on, as_of))
    return page(
        console,
        "reports.html",
        "reports",
        name=name,
        reports=REPORTS,
        body=body,
        charts=_chart(name, body),
        on=on,
        as_of=as_of,
    )


@router.get("/reports/{name}.csv")
async def download(console: Signed, name: str, on: str = "", as_of: str = "") -> Response:
    console.require("accountant")
    if name not in REPORTS:
        name = "daily"
    async with api(console) as client:
        answer = await client.get_text(f"/v1/staff/reports/{name}", "text/csv", **_params(on, as_of))
    return Response(
        answer.content,
        media_type="text/csv",
        headers={
            "Content-Disposition": answer.headers.get("content-disposition", f'attachment; filename="{name}.csv"'),
            "Cache-Control": "no-store",
        },
    )
