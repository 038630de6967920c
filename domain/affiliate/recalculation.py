"""What a retroactive change owes: per partner and period, what was paid, what should have been, the difference.
Unchanged terms give no differences, and posting the differences then recalculating gives none either."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.affiliate.distribution import CommissionLine


@dataclass(frozen=True)
class Difference:
    partner_id: str
    period: str
    paid: int
    should_be: int

    @property
    def amount(self) -> int:
        return self.should_be - self.paid


def differences(
    paid: Iterable[tuple[str, CommissionLine]], should_be: Iterable[tuple[str, CommissionLine]]
) -> list[Difference]:
    """Each input: (period, line). Only partners and periods whose totals differ are returned, sorted."""
    totals: dict[tuple[str, str], list[int]] = {}
    for index, lines in enumerate((paid, should_be)):
        for period, line in lines:
            totals.setdefault((line.partner_id, period), [0, 0])[index] += line.amount
    return [
        Difference(partner, period, was, now) for (partner, period), (was, now) in sorted(totals.items()) if was != now
    ]
