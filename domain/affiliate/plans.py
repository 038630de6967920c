"""A project's commission plan: the share of revenue for each level up the line (the referring partner is level 1),
and how shares become points and points become money."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

MIN_LEVELS, MAX_LEVELS = 3, 7


class PlanInvalid(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CommissionPlan:
    level_shares: tuple[Decimal, ...]  # fractions of revenue: level 1 first
    points_per_minor_unit: Decimal  # points earned per minor unit of commission
    minor_units_per_point: Decimal  # what a point is paid out as, in minor units of the project's currency

    @cached_property
    def total_share(self) -> Decimal:
        return sum(self.level_shares, Decimal(0))


def check_plan(plan: CommissionPlan) -> CommissionPlan:
    problems = []
    if not MIN_LEVELS <= len(plan.level_shares) <= MAX_LEVELS:
        problems.append(f"a plan has {MIN_LEVELS} to {MAX_LEVELS} levels")
    if any(share < 0 for share in plan.level_shares):
        problems.append("level shares must not be negative")
    if plan.total_share > 1:
        problems.append("the levels together cannot share more than all of the revenue")
    if plan.points_per_minor_unit <= 0 or plan.minor_units_per_point <= 0:
        problems.append("points and their value must be positive")
    elif plan.points_per_minor_unit * plan.minor_units_per_point > 1:
        problems.append("a commission's points cannot be worth more money than the commission")
    if problems:
        raise PlanInvalid(problems)
    return plan
