"""The rules of servicing a funded loan that are not the engine's arithmetic: which business dates close of business
still has to close, which projected nights are worth a row, what the borrower is told when.

A projected night is kept only when it posts something, changes the loan's status or carries a notice, so close of
business never visits a loan with nothing to do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from domain.lending.engine import ACCRUING, Component, ProjectedNight

REMINDER_DAYS_BEFORE_DUE = 3


class CobDateRefused(ValueError):
    """A business date that cannot be closed (already closed, or not yet over)."""


def dates_to_close(last_closed: date | None, until: date, first_open: date) -> list[date]:
    """Every business date from the first one not closed through `until`, in order. With nothing closed yet the
    first open date is where the book starts (the earliest loan, or today)."""
    start = last_closed + timedelta(days=1) if last_closed is not None else first_open
    if until < start:
        return []
    return [start + timedelta(days=n) for n in range((until - start).days + 1)]


@dataclass(frozen=True)
class NightRow:
    accrual_date: date
    interest: int
    penalty: int
    fines: int
    status: str | None  # set only when the night changes it
    overdue_since: date | None
    notice: str | None


def notice_for(night: ProjectedNight, thresholds: frozenset[int]) -> str | None:
    """What the borrower's loan workflow hears the morning after `night`: a reminder before the due date, the due
    date itself, or an overdue threshold (day 1 and every day the collections ladder acts on)."""
    morning = night.accrual_date + timedelta(days=1)
    if night.status == "overdue":
        if night.days_past_due == 1 or night.days_past_due in thresholds:
            return f"overdue:{night.days_past_due}"
        return None
    if night.status != "active" or night.next_due_date is None:
        return None
    if night.next_due_date == morning:
        return "due_today"
    if (night.next_due_date - morning).days == REMINDER_DAYS_BEFORE_DUE:
        return "due_soon"
    return None


def night_rows(nights: Iterable[ProjectedNight], status_now: str, thresholds: frozenset[int]) -> list[NightRow]:
    rows: list[NightRow] = []
    status = status_now
    for night in nights:
        notice = notice_for(night, thresholds)
        changed = night.status != status
        if changed or notice or any(night.increments.values()):
            overdue_since = (
                night.accrual_date + timedelta(days=1 - night.days_past_due) if night.days_past_due > 0 else None
            )
            rows.append(
                NightRow(
                    night.accrual_date,
                    night.increments[Component.INTEREST],
                    night.increments[Component.PENALTY],
                    night.increments[Component.FINES],
                    night.status if changed else None,
                    overdue_since,
                    notice,
                )
            )
        status = night.status
        if status in ("repaid", "written_off"):
            break
    return rows


__all__ = [
    "ACCRUING",
    "REMINDER_DAYS_BEFORE_DUE",
    "CobDateRefused",
    "NightRow",
    "dates_to_close",
    "night_rows",
    "notice_for",
]
