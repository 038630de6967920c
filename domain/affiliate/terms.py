"""A partner's terms, kept twice over in time: when they apply (valid from/to) and when they were recorded. What
was paid is explained by the terms as they were known when it was paid; a recalculation uses what is known now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class PartnerTerms:
    partner_id: str
    # What this partner earns when it stands at level 1, 2, ... of an event's line, as fractions of the revenue
    # (API: `levels:[percent...]`); levels beyond these pay it the project plan's share.
    level_shares: tuple[Decimal, ...]
    valid_from: datetime
    valid_to: datetime | None  # exclusive; None: until further notice
    recorded_at: datetime


def terms_in_force(history: Sequence[PartnerTerms], at: datetime, known_at: datetime) -> PartnerTerms | None:
    """The terms valid at `at`, as recorded by `known_at`: of the records that cover `at`, the latest recorded."""
    candidates = [
        t
        for t in history
        if t.recorded_at <= known_at and t.valid_from <= at and (t.valid_to is None or at < t.valid_to)
    ]
    return max(candidates, key=lambda t: t.recorded_at, default=None)
