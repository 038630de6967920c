"""Interest rates as lenders state them: a nominal rate per day, week, month or year, and the day-count convention
that turns a span of dates into a share of that period.

Every rate ends as one number per span of nights: `InterestRate.factor(start, end)`, the interest one unit of
principal earns over the nights `start` .. `end - 1`. The engine accrues night by night or span by span with it, and
the schedule takes a period's interest from it, so a quote and the loan agree whatever the convention. Each
convention below is additive (the factor of a span is the sum of its nights' factors), which is what lets close of
business post one night at a time and land where the engine does.

- `day` and `week`: charged per calendar day (a weekly rate is a seventh of it each day); no convention applies,
  which is how regulators state daily caps.
- `month` and `year`: converted to a yearly nominal rate (a monthly rate times 12), then
  - `actual_365_fixed`: actual nights / 365;
  - `actual_360`: actual nights / 360;
  - `actual_actual_isda`: nights in a leap year / 366 plus nights in other years / 365;
  - `30e_360_isda`: 30E/360 (ISDA): every month counts 30 days, a date that ends its month counting as the 30th,
    divided by 360 (so each monthly period on the same day of the month is exactly a twelfth of the yearly rate).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum


class RatePeriod(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class DayCount(StrEnum):
    ACTUAL_ACTUAL_ISDA = "actual_actual_isda"
    ACTUAL_365_FIXED = "actual_365_fixed"
    ACTUAL_360 = "actual_360"
    THIRTY_E_360_ISDA = "30e_360_isda"


PERIODS_PER_YEAR = {RatePeriod.MONTH: 12, RatePeriod.YEAR: 1}


def _thirty_360_serial(day: date) -> int:
    """A date's position on the 30E/360 (ISDA) calendar: twelve months of thirty days, month ends on the 30th."""
    last = calendar.monthrange(day.year, day.month)[1]
    return 360 * day.year + 30 * (day.month - 1) + (30 if day.day == last else min(day.day, 30))


def year_fraction(start: date, end: date, convention: DayCount) -> Decimal:
    """The share of a year between two dates under the convention (nights `start` .. `end - 1`)."""
    if convention is DayCount.ACTUAL_365_FIXED:
        return Decimal((end - start).days) / 365
    if convention is DayCount.ACTUAL_360:
        return Decimal((end - start).days) / 360
    if convention is DayCount.THIRTY_E_360_ISDA:
        return Decimal(_thirty_360_serial(end) - _thirty_360_serial(start)) / 360
    fraction, cursor = Decimal(0), start
    while cursor < end:
        year_end = min(end, date(cursor.year + 1, 1, 1))
        fraction += Decimal((year_end - cursor).days) / (366 if calendar.isleap(cursor.year) else 365)
        cursor = year_end
    return fraction


@dataclass(frozen=True)
class InterestRate:
    """A nominal rate (a fraction: 0.12 is 12%) per `period`, counted by `day_count` for monthly and yearly rates."""

    value: Decimal
    period: RatePeriod = RatePeriod.DAY
    day_count: DayCount = DayCount.ACTUAL_365_FIXED

    def factor(self, start: date, end: date) -> Decimal:
        """Interest per unit of principal over the nights `start` .. `end - 1`."""
        if end <= start or not self.value:
            return Decimal(0)
        if self.period is RatePeriod.DAY:
            return self.value * (end - start).days
        if self.period is RatePeriod.WEEK:
            return self.value * (end - start).days / 7
        # Multiplied before divided: a rate with few decimals over a 360- or 365-day year stays exact wherever the
        # result has a finite decimal expansion, so nights sum to their span (issue 13's exactness, to the digit).
        yearly = self.value * PERIODS_PER_YEAR[self.period]
        if self.day_count is DayCount.ACTUAL_365_FIXED:
            return yearly * (end - start).days / 365
        if self.day_count is DayCount.ACTUAL_360:
            return yearly * (end - start).days / 360
        if self.day_count is DayCount.THIRTY_E_360_ISDA:
            return yearly * (_thirty_360_serial(end) - _thirty_360_serial(start)) / 360
        total, cursor = Decimal(0), start
        while cursor < end:
            year_end = min(end, date(cursor.year + 1, 1, 1))
            total += yearly * (year_end - cursor).days / (366 if calendar.isleap(cursor.year) else 365)
            cursor = year_end
        return total

    def night(self, day: date) -> Decimal:
        return self.factor(day, day + timedelta(days=1))

    def uniform_nights(self) -> bool:
        """Whether every night earns the same (then a span is its nights times one night's factor)."""
        return self.period in (RatePeriod.DAY, RatePeriod.WEEK) or self.day_count in (
            DayCount.ACTUAL_365_FIXED,
            DayCount.ACTUAL_360,
        )

    def max_night(self) -> Decimal:
        """The most one night can earn per unit of principal (what a daily cost cap must allow)."""
        if self.period is RatePeriod.DAY:
            return self.value
        if self.period is RatePeriod.WEEK:
            return self.value / 7
        yearly = self.value * PERIODS_PER_YEAR[self.period]
        most = {
            DayCount.ACTUAL_365_FIXED: Decimal(1) / 365,
            DayCount.ACTUAL_360: Decimal(1) / 360,
            DayCount.ACTUAL_ACTUAL_ISDA: Decimal(1) / 365,
            DayCount.THIRTY_E_360_ISDA: Decimal(3) / 360,  # the night into the last day of a 28-day February
        }[self.day_count]
        return yearly * most

    def with_value(self, value: Decimal) -> InterestRate:
        return replace(self, value=value)

    def describe(self) -> str:
        """How an agreement states it: "0.008 per day", "0.12 per year (actual_365_fixed)"."""
        if self.period in (RatePeriod.DAY, RatePeriod.WEEK):
            return f"{self.value} per {self.period.value}"
        return f"{self.value} per {self.period.value} ({self.day_count.value})"
