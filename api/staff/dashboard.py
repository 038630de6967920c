"""`GET /v1/staff/dashboard`: the portfolio at a glance for every staff role (services/dashboard.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.dependencies import Db, Resources, StaffWith
from services.dashboard import dashboard

router = APIRouter(prefix="/v1/staff", tags=["staff: reports"])


class DayActivity(BaseModel):
    day: date
    issued: int
    repaid: int


class DashboardView(BaseModel):
    business_date: date
    last_closed: date | None
    running: date | None
    portfolio: list[dict[str, Any]]
    activity: dict[str, list[DayActivity]]  # per currency, every day of the window
    funnel: dict[str, int]  # received, approved, signed, disbursed


@router.get("/dashboard", response_model=DashboardView)
async def read_dashboard(
    _: StaffWith("underwriter", "collector", "accountant", "support"),
    db: Db,
    resources: Resources,
    days: int = Query(default=30, ge=7, le=366, description="how many business dates back the series go"),
) -> DashboardView:
    found = await dashboard(db, resources.settings.market_timezone, days)
    activity = {
        currency: [DayActivity(day=d, **by_day.get(d.isoformat(), {"issued": 0, "repaid": 0})) for d in found.days]
        for currency, by_day in found.activity.items()
    }
    return DashboardView(
        business_date=found.business_date,
        last_closed=found.last_closed,
        running=found.running,
        portfolio=found.portfolio,
        activity=activity,
        funnel=found.funnel,
    )
