"""Property tests of the affiliate rules: an event's lines never pay more than the plan shares, a refund takes back
exactly what its event paid, terms are read as they were known, and a recalculation of unchanged terms is empty,
as is one run after its differences were posted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.affiliate.distribution import CommissionLine, RevenueEvent, distribute, reverse
from domain.affiliate.periods import parse_period, period_of
from domain.affiliate.plans import CommissionPlan, PlanInvalid, check_plan
from domain.affiliate.recalculation import differences
from domain.affiliate.terms import PartnerTerms, terms_in_force

T0 = datetime(2026, 1, 1, tzinfo=UTC)
shares = st.decimals(min_value=Decimal(0), max_value=Decimal("0.2"), places=3)
plans = st.builds(
    CommissionPlan,
    st.lists(shares, min_size=3, max_size=7).map(tuple),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10), places=2),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10), places=2),
).filter(lambda p: p.total_share <= 1 and p.points_per_minor_unit * p.minor_units_per_point <= 1)
uplines = st.lists(st.text("abcdefgh", min_size=1, max_size=3), min_size=1, max_size=9, unique=True)
fractions = st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=2)


def flat_terms(share: Decimal):  # type: ignore[no-untyped-def]
    """Every partner earns `share` of the revenue at each of the first seven levels (above the plan when large)."""
    return lambda partner, at: PartnerTerms(partner, (share / 4,) * 7, T0, None, T0)


@settings(max_examples=300, deadline=None)
@given(plans, uplines, st.integers(1, 10**9), fractions)
def test_the_lines_of_an_event_never_exceed_the_plan(
    plan: CommissionPlan, upline: list[str], amount: int, share: Decimal
) -> None:
    check_plan(plan)
    event = RevenueEvent("e1", amount, T0)
    lines = distribute(event, upline, plan, flat_terms(share))
    assert len(lines) <= min(len(upline), len(plan.level_shares))
    assert sum(line.amount for line in lines) <= amount * plan.total_share
    assert all(line.amount >= 0 and line.points >= 0 for line in lines)
    assert [line.level for line in lines] == sorted({line.level for line in lines})
    refund = distribute(RevenueEvent("e1", -amount, T0), upline, plan, flat_terms(share))
    assert [(r.partner_id, r.amount, r.points) for r in refund] == [(x.partner_id, -x.amount, -x.points) for x in lines]


@settings(max_examples=200, deadline=None)
@given(plans, uplines, st.lists(st.integers(1, 10**7), min_size=1, max_size=20), fractions, fractions)
def test_recalculating_unchanged_terms_is_empty_and_posting_the_differences_settles_them(
    plan: CommissionPlan, upline: list[str], amounts: list[int], old: Decimal, new: Decimal
) -> None:
    events = [RevenueEvent(f"e{n}", a, T0 + timedelta(days=n)) for n, a in enumerate(amounts)]

    def lines(share: Decimal) -> list[tuple[str, CommissionLine]]:
        return [
            (e.occurred_at.strftime("%Y-%m"), line)
            for e in events
            for line in distribute(e, upline, plan, flat_terms(share))
        ]

    paid = lines(old)
    assert differences(paid, lines(old)) == []
    owed = differences(paid, lines(new))
    adjustments = [(d.period, CommissionLine("adj", d.partner_id, 0, 0, d.amount)) for d in owed]
    assert differences(paid + adjustments, lines(new)) == []


@settings(max_examples=300, deadline=None)
@given(plans, uplines, st.integers(1, 10**12))
def test_each_line_is_the_stated_rounding_of_its_share(plan: CommissionPlan, upline: list[str], amount: int) -> None:
    """Points are the commission rounded down, money is the points' value rounded down (Decimal as the reference:
    the rules compute with exact fractions for speed)."""
    lines = distribute(RevenueEvent("e1", amount, T0), upline, plan, lambda partner, at: None)
    for line in lines:
        share = plan.level_shares[line.level - 1]
        points = (Decimal(amount) * share * plan.points_per_minor_unit).to_integral_value(rounding=ROUND_FLOOR)
        assert line.points == int(points)
        assert line.amount == int((points * plan.minor_units_per_point).to_integral_value(rounding=ROUND_FLOOR))


@settings(max_examples=300, deadline=None)
@given(plans, uplines, st.integers(1, 10**9), fractions, st.lists(st.integers(1, 10**9), min_size=1, max_size=4))
def test_refunds_never_take_back_more_than_was_paid_and_a_full_refund_takes_back_all(
    plan: CommissionPlan, upline: list[str], amount: int, share: Decimal, refunds: list[int]
) -> None:
    paid = distribute(RevenueEvent("e1", amount, T0), upline, plan, flat_terms(share))
    assert [(x.partner_id, x.amount) for x in reverse(paid, "r", amount, amount)] == [
        (x.partner_id, -x.amount) for x in paid
    ]
    by_partner = {x.partner_id: x.amount for x in paid}
    taken: dict[str, int] = {}
    for refunded in refunds:  # several partial refunds, each of the original
        for line in reverse(paid, "r", refunded, amount):
            assert line.amount <= 0 and line.points <= 0
            taken[line.partner_id] = taken.get(line.partner_id, 0) - line.amount
    for partner, back in taken.items():
        assert back <= by_partner[partner] * len(refunds)
        assert back <= by_partner[partner] or sum(refunds) > amount


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(["month", "week"]),
)
def test_every_moment_falls_in_exactly_one_period_named_by_its_key(at: datetime, length: str) -> None:
    period = period_of(at, length)
    assert period.starts_at <= at < period.ends_at
    assert parse_period(period.key, length) == period
    assert period.next(length).starts_at == period.ends_at


def test_terms_are_read_as_they_were_known() -> None:
    first = PartnerTerms("p", (Decimal("0.1"),), T0, None, T0)
    cut = PartnerTerms("p", (Decimal("0.05"),), T0 + timedelta(days=10), None, T0 + timedelta(days=40))
    history = [first, cut]
    day_20 = T0 + timedelta(days=20)
    assert terms_in_force(history, day_20, known_at=T0 + timedelta(days=30)) == first  # paid under the old terms
    assert terms_in_force(history, day_20, known_at=T0 + timedelta(days=50)) == cut  # recalculated under the new
    assert terms_in_force(history, T0 - timedelta(days=1), known_at=T0 + timedelta(days=50)) is None


def test_a_plan_has_three_to_seven_levels_sharing_at_most_everything() -> None:
    with pytest.raises(PlanInvalid) as invalid:
        check_plan(CommissionPlan((Decimal("0.6"), Decimal("0.6")), Decimal(1), Decimal(1)))
    assert len(invalid.value.problems) == 2
