"""The dashboard: the portfolio at a glance, in charts (outstanding by product, overdue buckets, issued and repaid
per day, the applications funnel) and the state of close of business."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services import formatting
from web import charts
from web.console.pages.common import Signed, api, page

router = APIRouter()
BUCKET_ORDER = ("current", "1-30", "31-60", "61-90", "90+")


def _charts(found: dict[str, Any]) -> dict[str, Any]:
    by_currency: dict[str, dict[str, Any]] = {}
    for line in found["portfolio"]:
        currency = line["currency"]
        mine = by_currency.setdefault(
            currency, {"outstanding": 0, "loans": 0, "products": [], "buckets": dict.fromkeys(BUCKET_ORDER, 0)}
        )
        mine["outstanding"] += line["outstanding"]
        mine["loans"] += line["loans"]
        mine["products"].append((line["product"], line["outstanding"]))
        for name in BUCKET_ORDER:
            mine["buckets"][name] += line["buckets"][name]["outstanding"]
    drawn = []
    for currency, mine in sorted(by_currency.items()):

        def label(value: int, currency: str = currency) -> str:
            return formatting.money(value, currency)

        at_risk = sum(mine["buckets"][name] for name in ("31-60", "61-90", "90+"))
        activity = found["activity"].get(currency, [])
        drawn.append(
            {
                "currency": currency,
                "outstanding": mine["outstanding"],
                "loans": mine["loans"],
                "par30": Decimal(at_risk) / mine["outstanding"] if mine["outstanding"] else Decimal(0),
                "by_product": charts.bars(f"Outstanding by product ({currency})", mine["products"], label),
                "buckets": charts.bars(
                    f"Outstanding by days past due ({currency})",
                    [(name, mine["buckets"][name]) for name in BUCKET_ORDER],
                    label,
                ),
                "activity": charts.grouped(
                    f"Issued and repaid per day ({currency})",
                    [a["day"] for a in activity],
                    [("issued", [a["issued"] for a in activity]), ("repaid", [a["repaid"] for a in activity])],
                    label,
                ),
                "issued": sum(a["issued"] for a in activity),
                "repaid": sum(a["repaid"] for a in activity),
            }
        )
    return {"currencies": drawn}


@router.get("", response_class=HTMLResponse)
async def dashboard(console: Signed, days: int = 30) -> HTMLResponse:
    days = 90 if days == 90 else 30
    async with api(console) as client:
        found = await client.get("/v1/staff/dashboard", days=days)
    funnel = found["funnel"]
    stages = [(name, funnel[name]) for name in ("received", "approved", "signed", "disbursed")]
    return page(
        console,
        "dashboard.html",
        "dashboard",
        found=found,
        days=days,
        funnel=charts.funnel(f"Applications of the last {days} days", stages),
        **_charts(found),
    )
