"""The portfolio at a glance, for every staff role: outstanding by product with overdue buckets and PAR30, principal
issued and cash repaid per day, the applications funnel, and where close of business stands. Aggregates only:
no customer appears in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.repositories import reports, servicing


@dataclass(frozen=True)
class Dashboard:
    business_date: date
    last_closed: date | None
    running: date | None
    days: list[date]
    portfolio: list[dict[str, Any]]
    activity: dict[str, dict[str, dict[str, int]]]
    funnel: dict[str, int]


async def dashboard(db: AsyncSession, timezone: str, days: int) -> Dashboard:
    today = await servicing.open_business_date(db, timezone)
    since = today - timedelta(days=days - 1)
    calendar = await servicing.calendar(db)
    return Dashboard(
        business_date=today,
        last_closed=calendar.last_closed,
        running=calendar.running,
        days=[since + timedelta(days=n) for n in range(days)],
        portfolio=await reports.portfolio(db, today),
        activity=await reports.activity_by_day(db, since, today),
        # Applications are stamped with the wall clock, not the business date (which close of business may run ahead
        # of in a test or a demo): their window is the last `days` days of real time.
        funnel=await reports.application_funnel(db, datetime.now(UTC).date() - timedelta(days=days - 1)),
    )
