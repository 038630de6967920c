"""Commission periods: a calendar month (`2026-11`) or an ISO week (`2026-W47`), in UTC. An event belongs to the
period its time falls in; money moves in the open period, so a closed period is never edited again."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum


class PeriodLength(StrEnum):
    WEEK = "week"
    MONTH = "month"


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Period:
    key: str
    starts_at: datetime
    ends_at: datetime  # exclusive

    def next(self, length: str) -> Period:
        return period_of(self.ends_at, length)


def period_of(at: datetime, length: str) -> Period:
    moment = at.astimezone(UTC)
    if length == "month":
        start = datetime(moment.year, moment.month, 1, tzinfo=UTC)
        end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
        return Period(f"{start:%Y-%m}", start, end)
    if length == "week":
        year, week, _ = moment.isocalendar()
        start = datetime.combine(date.fromisocalendar(year, week, 1), datetime.min.time(), UTC)
        return Period(f"{year}-W{week:02d}", start, start + timedelta(days=7))
    raise ValueError(f"unknown period length {length!r}")


def parse_period(key: str, length: str) -> Period:
    """The period a key names, refusing a key of the other length or a malformed one."""
    if length == "month" and (m := _MONTH.match(key)) and 1 <= int(m.group(2)) <= 12:
        return period_of(datetime(int(m.group(1)), int(m.group(2)), 1, tzinfo=UTC), length)
    if length == "week" and (w := _WEEK.match(key)):
        try:
            monday = date.fromisocalendar(int(w.group(1)), int(w.group(2)), 1)
        except ValueError:
            pass
        else:
            return period_of(datetime.combine(monday, datetime.min.time(), UTC), length)
    raise ValueError(f"{key!r} is not a {length} period (e.g. {'2026-11' if length == 'month' else '2026-W47'})")
