"""From recorded events to commission lines, the same way whether the lines are paid now (distribution) or
recomputed later (recalculation): an event's revenue by the project's rule, shared up its referrer's line with the
terms in force at the event's time; a refund that names its event takes back its share of what that event paid."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from domain.affiliate.distribution import (
    CommissionLine,
    LevelShare,
    RevenueEvent,
    distribute,
    lines_from,
    reverse,
    shares_up,
)
from domain.affiliate.plans import CommissionPlan
from domain.affiliate.revenue import revenue_of
from domain.affiliate.terms import PartnerTerms


@dataclass(frozen=True)
class SharingRules:
    plan: CommissionPlan
    revenue_rule: str
    registration_amount: int


class RecordedEvent(NamedTuple):
    id: int
    kind: str
    amount: int
    occurred_at: datetime
    referrer: str | None  # the partner whose code brought the user
    reverses: int | None = None  # the id of the event a refund names, when it names one


@dataclass(frozen=True)
class ReversedEvent:
    """What a refund needs of the event it names: its amount, and the lines that event paid."""

    amount: int
    lines: Sequence[CommissionLine]


TermsOf = Callable[[str, datetime], PartnerTerms | None]


UplineOf = Callable[[str, datetime], Sequence[str]]  # (referrer, when) -> the referrer first, up to the root


SharesMemo = dict[int, tuple[Sequence[str], CommissionPlan, list[LevelShare]]]


def lines_for(
    event: RecordedEvent,
    project: SharingRules,
    upline_of: UplineOf,
    terms_of: TermsOf,
    reversed_event: ReversedEvent | None = None,
    memo: SharesMemo | None = None,
) -> list[CommissionLine]:
    """The lines an event pays (negative ones take back). A refund naming an event takes back the refunded share of
    what that event paid; one naming none is negative revenue shared like any other event.

    `memo` keeps the shares of lines whose partners have no terms of their own (they follow the plan whatever the
    time), by the line's identity: the caller keeps each line object for as long as it holds."""
    key = str(event.id)
    if reversed_event is not None:
        return reverse(reversed_event.lines, key, event.amount, reversed_event.amount)
    if event.referrer is None:
        return []
    revenue = revenue_of(project.revenue_rule, event.kind, event.amount, project.registration_amount)
    if revenue == 0:
        return []
    upline = upline_of(event.referrer, event.occurred_at)
    if memo is None or not isinstance(terms_of, TermsBook) or terms_of.any_for(upline):
        return distribute(RevenueEvent(key, revenue, event.occurred_at), upline, project.plan, terms_of)
    found = memo.get(id(upline))
    if found is None or found[0] is not upline or found[1] != project.plan:
        found = memo[id(upline)] = (upline, project.plan, shares_up(upline, project.plan, terms_of, event.occurred_at))
    return lines_from(key, revenue, found[2], project.plan)


def upline_lookup(histories: Mapping[str, Sequence[tuple[datetime, Sequence[str]]]]) -> UplineOf:
    """`upline_of` over each referrer's uplines, latest first with the date each applies from: an event is shared
    up the line as it stood when the event happened, whatever moves came later."""

    def upline_of(referrer: str, at: datetime) -> Sequence[str]:
        for valid_from, upline in histories.get(referrer, ()):
            if valid_from <= at:
                return upline
        return ()

    return upline_of


class TermsBook:
    """`terms_of` over a history, as known at `known_at`. Partners without records answer at once: most partners
    of a large network follow the plan, and distribution asks for every level of every event."""

    def __init__(self, history: Sequence[PartnerTerms], known_at: datetime) -> None:
        self._by_partner: dict[str, list[PartnerTerms]] = {}
        for terms in sorted(history, key=lambda t: t.recorded_at, reverse=True):  # the latest record first
            if terms.recorded_at <= known_at:
                self._by_partner.setdefault(terms.partner_id, []).append(terms)

    def __call__(self, partner_id: str, at: datetime) -> PartnerTerms | None:
        for terms in self._by_partner.get(partner_id, ()):
            if terms.valid_from <= at and (terms.valid_to is None or at < terms.valid_to):
                return terms
        return None

    def any_for(self, partners: Sequence[str]) -> bool:
        """Whether any of these partners has terms of its own (otherwise they all follow the plan, at any time)."""
        return bool(self._by_partner) and not self._by_partner.keys().isdisjoint(partners)


def terms_lookup(history: Sequence[PartnerTerms], known_at: datetime) -> TermsBook:
    return TermsBook(history, known_at)


def per_partner_level(lines: Sequence[CommissionLine]) -> Mapping[tuple[str, int], tuple[int, int]]:
    """(partner, level) -> (points, amount) summed: what an event paid each partner, however many lines it took."""
    totals: dict[tuple[str, int], tuple[int, int]] = {}
    for line in lines:
        points, amount = totals.get((line.partner_id, line.level), (0, 0))
        totals[(line.partner_id, line.level)] = (points + line.points, amount + line.amount)
    return totals


def corrections(
    event_key: str, paid: Sequence[CommissionLine], should_be: Sequence[CommissionLine]
) -> list[CommissionLine]:
    """The adjustment lines that bring what an event paid to what it should have paid: none when they agree."""
    if len(paid) == len(should_be) and sorted(paid) == sorted(should_be):
        return []  # the common case, settled without building totals
    was, now = per_partner_level(paid), per_partner_level(should_be)
    out = []
    for partner, level in sorted(set(was) | set(now)):
        old_points, old_amount = was.get((partner, level), (0, 0))
        new_points, new_amount = now.get((partner, level), (0, 0))
        if new_amount != old_amount or new_points != old_points:
            out.append(CommissionLine(event_key, partner, level, new_points - old_points, new_amount - old_amount))
    return out
