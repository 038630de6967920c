"""How one revenue event is shared up the line: one line per partner on levels 1..N of the plan (fewer when the
line is shorter), points first, money from points, each rounded down so the lines never pay more than the plan."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import NamedTuple

from domain.affiliate.plans import CommissionPlan
from domain.affiliate.terms import PartnerTerms


@dataclass(frozen=True)
class RevenueEvent:
    event_id: str
    amount: int  # minor units of revenue (negative: a refund or chargeback)
    occurred_at: datetime


class CommissionLine(NamedTuple):
    event_id: str
    partner_id: str
    level: int
    points: int
    amount: int  # minor units


@cache
def _ratio(value: Decimal) -> tuple[int, int]:
    """A Decimal as an exact fraction: distribution computes millions of lines, and integer arithmetic on exact
    fractions gives the same floors as Decimal (which is exact at these sizes) at a fraction of the cost."""
    return value.as_integer_ratio()


class LevelShare(NamedTuple):
    """What one partner of a line earns of an event's revenue: its level and its share, as an exact fraction."""

    partner_id: str
    level: int
    numerator: int
    denominator: int


def distribute(
    event: RevenueEvent,
    upline: Sequence[str],
    plan: CommissionPlan,
    terms_of: Callable[[str, datetime], PartnerTerms | None],
) -> list[CommissionLine]:
    """`upline`: the referring partner first, then its sponsor, and so on. Each partner earns its own terms' share
    for the level it stands at; the plan's share where no terms are in force or they name no share for the level.
    The lines together never take more than the plan's total share: a partner's generous terms are paid out of what
    is left, the nearest levels first. A negative event (refund) yields the exact negation of what the same positive
    event yields, so a reversal takes back what was paid."""
    return lines_from(event.event_id, event.amount, shares_up(upline, plan, terms_of, event.occurred_at), plan)


def shares_up(
    upline: Sequence[str], plan: CommissionPlan, terms_of: Callable[[str, datetime], PartnerTerms | None], at: datetime
) -> list[LevelShare]:
    """The shares of the line's partners at time `at`: the first half of `distribute`, which depends on the line and
    the terms but not on the amount (so a line whose partners have no terms of their own can be worked out once)."""
    shares = []
    room = plan.total_share
    for level, (partner_id, plan_share) in enumerate(zip(upline, plan.level_shares, strict=False), start=1):
        terms = terms_of(partner_id, at)
        own = terms.level_shares if terms is not None else ()
        wanted = own[level - 1] if level <= len(own) else plan_share
        share = wanted if wanted <= room else room
        room -= share
        shares.append(LevelShare(partner_id, level, *_ratio(share)))
    return shares


def lines_from(event_id: str, amount: int, shares: Sequence[LevelShare], plan: CommissionPlan) -> list[CommissionLine]:
    """The second half of `distribute`: points are the commission rounded down, money the points' value rounded
    down; a negative amount gives the negation of the positive one's lines."""
    sign, amount = (-1, -amount) if amount < 0 else (1, amount)
    (ppu_n, ppu_d), (value_n, value_d) = _ratio(plan.points_per_minor_unit), _ratio(plan.minor_units_per_point)
    lines = []
    for partner_id, level, share_n, share_d in shares:
        points = amount * share_n * ppu_n // (share_d * ppu_d)  # floor(amount x share x points per unit)
        money = points * value_n // value_d
        if points or money:
            lines.append(CommissionLine(event_id, partner_id, level, sign * points, sign * money))
    return lines


def reverse(paid: Sequence[CommissionLine], event_id: str, refunded: int, original: int) -> list[CommissionLine]:
    """A refund of `refunded` out of an `original` amount takes back that share of what each partner was paid for
    the original event (`paid`: its lines, adjustments included), rounded toward zero so a refund never takes back
    more than was paid; refunding all of it takes back exactly what was paid."""
    totals: dict[tuple[str, int], list[int]] = {}
    for line in paid:
        total = totals.setdefault((line.partner_id, line.level), [0, 0])
        total[0] += line.points
        total[1] += line.amount
    ratio = Fraction(min(refunded, original), original) if original > 0 else Fraction(1)
    lines = []
    for (partner_id, level), (points, amount) in totals.items():
        back_points, back_amount = -int(points * ratio), -int(amount * ratio)
        if back_points or back_amount:
            lines.append(CommissionLine(event_id, partner_id, level, back_points, back_amount))
    return lines
