"""Commissions against the database: distribution of a batch of events (lines written, partners' wallets credited
in one ledger entry, the events marked, all in one transaction) and the recalculation of past events under the
terms known now (what was paid, what should have been, the adjustments that settle it).

Both take the project's advisory lock, so a period's close, the real-time distributor and a recalculation being
posted never interleave on one project; both read terms through `domain.affiliate.commissions`, so a recalculation
of unchanged terms finds exactly what distribution paid."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts import HouseAccount
from domain.affiliate.commissions import (
    RecordedEvent,
    ReversedEvent,
    SharesMemo,
    SharingRules,
    TermsOf,
    UplineOf,
    corrections,
    lines_for,
    terms_lookup,
    upline_lookup,
)
from domain.affiliate.distribution import CommissionLine
from domain.affiliate.periods import Period, period_of
from domain.affiliate.plans import CommissionPlan
from domain.affiliate.postings import commission_postings
from domain.affiliate.recalculation import Difference, differences
from domain.affiliate.revenue import reverses
from domain.ledger import EntryDraft
from store import cycle_collection, ledger
from store.repositories import affiliate, commissions
from store.repositories.commissions import EventLines


@dataclass(frozen=True)
class BatchOutcome:
    events: int
    lines: int
    amount: int  # net minor units credited to partners
    entry_id: int | None


@dataclass(frozen=True)
class Recomputed:
    events: int
    differences: list[Difference]
    adjustments: list[EventLines]


def sharing_rules(project: affiliate.Project) -> SharingRules:
    plan = CommissionPlan(tuple(project.level_shares), project.points_per_unit, project.point_value)
    return SharingRules(plan, project.revenue, project.registration_amount)


lock_project = commissions.lock_project  # the one lock every commission process takes


async def open_period(session: AsyncSession, project: affiliate.Project, at: datetime) -> Period:
    """The period money moves in now: the one `at` falls in, or the first after it not frozen by a close."""
    frozen = await commissions.frozen_periods(session, project.id)
    period = period_of(at, project.period)
    while period.key in frozen:
        period = period.next(project.period)
    return period


class _Periods:
    """Period keys by day: a batch asks for thousands of events of the same few days."""

    def __init__(self, length: str) -> None:
        self._length = length
        self._by_day: dict[tuple[int, int, int], str] = {}

    def key(self, at: datetime) -> str:
        moment = at.astimezone(UTC)
        day = (moment.year, moment.month, moment.day)
        found = self._by_day.get(day)
        if found is None:
            found = self._by_day[day] = period_of(moment, self._length).key
        return found


class CommissionBook:
    """Keeps what never changes between batches (partners' uplines, their wallet accounts) so a batch reads only
    its events and the project's terms. One per worker process."""

    def __init__(self) -> None:
        self._uplines: dict[str, list[tuple[datetime, list[str]]]] = {}
        self._network_versions: dict[uuid.UUID, int] = {}
        self._shares: dict[uuid.UUID, SharesMemo] = {}  # per project: lines that follow the plan, worked out once
        self._accounts: dict[tuple[str, str], int] = {}

    async def distribute_batch(
        self,
        session: AsyncSession,
        project: affiliate.Project,
        *,
        limit: int,
        before: datetime | None = None,
        posted_period: str | None = None,
        lanes: tuple[int, int] = (0, 1),
    ) -> BatchOutcome:
        """Take up to `limit` waiting events (those before `before` when a period closes) of the part `lanes` names,
        pay their lines into the partners' commission wallets, and mark them taken; an empty batch does nothing."""
        await lock_project(session, project.id, shared=True)
        events = await commissions.take_pending(session, project.id, limit, before, lanes)
        if not events:
            return BatchOutcome(0, 0, 0, None)
        now = datetime.now(UTC)
        frozen = set() if posted_period else await commissions.frozen_periods(session, project.id)
        open_now = (await open_period(session, project, now)).key if frozen else ""
        upline_of, terms_of = await self._network_view(
            session, project, {e.partner_id for e in events if e.partner_id}, now
        )
        named = await commissions.originals(
            session, [(e.integration_id, e.reverses_client_event_id) for e in events if e.reverses_client_event_id]
        )
        rules, periods = sharing_rules(project), _Periods(project.period)
        memo = self._shares.setdefault(project.id, {})
        rows: list[EventLines] = []
        paid_now: dict[int, list[CommissionLine]] = {}  # an original distributed in this same batch
        with cycle_collection.paused():
            for e in events:
                original = named.get((e.integration_id, e.reverses_client_event_id or "")) if reverses(e.kind) else None
                reversed_event = None
                if original is not None:
                    reversed_event = ReversedEvent(
                        original.amount, original.lines or paid_now.get(original.event_id, [])
                    )
                recorded = RecordedEvent(e.id, e.kind, e.amount, e.occurred_at, e.partner_id)
                lines = lines_for(recorded, rules, upline_of, terms_of, reversed_event, memo)
                if not lines:
                    continue
                paid_now[e.id] = lines
                kind, period = "reversal" if reverses(e.kind) else "commission", periods.key(e.occurred_at)
                # A line goes on its event's statement, unless that period is frozen: then on the open one.
                posted = posted_period or (open_now if period in frozen else period)
                rows.append(EventLines(e.id, lines, period, kind, posted))
        key = f"commissions:{project.code}:{events[0].id}-{events[-1].id}"
        entry_id, amount = await self._post(
            session, project, rows, key, "commission", {"project": project.code, "events": len(events)}
        )
        if rows:
            await commissions.write_lines(session, rows, entry_id=entry_id)
        return BatchOutcome(len(events), sum(len(g.lines) for g in rows), amount, entry_id)

    async def _network_view(
        self, session: AsyncSession, project: affiliate.Project, referrers: set[str], known_at: datetime
    ) -> tuple[UplineOf, TermsOf]:
        """The uplines of each referrer over time (kept between batches until a move changes the project's network)
        and the terms of the project's partners as known at `known_at` (read afresh: terms may have been recorded
        since)."""
        if self._network_versions.get(project.id) != project.network_version:
            self._uplines.clear()
            self._shares.clear()
            self._network_versions[project.id] = project.network_version
        missing = [r for r in referrers if r not in self._uplines]
        if missing:
            self._uplines.update(await commissions.upline_history(session, missing))
        history = await affiliate.terms_history(session, project_id=project.id)
        return upline_lookup(self._uplines), terms_lookup(history, known_at)

    async def _post(
        self,
        session: AsyncSession,
        project: affiliate.Project,
        rows: Sequence[EventLines],
        key: str,
        kind: str,
        metadata: dict[str, object],
    ) -> tuple[int | None, int]:
        """One entry: each partner's net for the rows into (or out of) their commission wallet, against the project
        currency's commission expense. None when the rows net to nothing for everyone."""
        nets: dict[str, int] = {}
        for group in rows:
            for line in group.lines:
                nets[line.partner_id] = nets.get(line.partner_id, 0) + line.amount
        moving = {partner: amount for partner, amount in nets.items() if amount}
        if not moving:
            return None, 0
        known = self._accounts
        missing = [uuid.UUID(p) for p in moving if (p, project.currency) not in known]
        if missing:
            opened = await commissions.commission_accounts(session, missing, project.currency)
            fresh = {(str(p), project.currency): account for p, account in opened.items()}
            known = known | fresh
            # Kept for later batches only once this transaction commits: a lane beside it, or this batch after a
            # rollback, must not post to a wallet that does not exist for them.
            event.listen(session.sync_session, "after_commit", lambda _: self._accounts.update(fresh), once=True)
        # The expense side on a shard of its own per entry: batches of parallel lanes do not queue on one row.
        expense = await ledger.house_account(
            session, HouseAccount.COMMISSION_EXPENSE, project.currency, ledger.house_shard(key)
        )
        total = sum(moving.values())
        wallets = {partner: known[(partner, project.currency)] for partner in moving}
        postings = commission_postings(moving, wallets, expense, project.currency)
        draft = EntryDraft(key, kind, datetime.now(UTC).date(), tuple(postings), metadata=metadata)
        entry = await ledger.post(session, draft)
        return entry.id, total

    # --- recalculation ------------------------------------------------------------------------------------------------

    async def recompute(
        self,
        session: AsyncSession,
        project: affiliate.Project,
        partner: affiliate.Partner,
        valid_from: datetime,
        valid_to: datetime | None,
        scope: Sequence[str] | None = None,
    ) -> Recomputed:
        """Every event that touched the partner's levels in the window, as paid and as it should be with the terms
        and lines known now; the adjustments are per event, partner and level, so paying them makes a second run
        find nothing. `scope`: the partners whose lines can change (default: the partner and those above it)."""
        levels = len(project.level_shares)
        events = await commissions.affected_events(session, project.id, partner, levels, valid_from, valid_to)
        if not events:
            return Recomputed(0, [], [])
        # A partner's terms change its own share and what is left for those above it: the lines of the partners
        # below (nearer the referrer) are taken first and cannot change, so only the partner's path is compared.
        in_scope = set(scope) if scope is not None else {str(p) for p in partner.path}
        paid = await commissions.lines_of_events(session, [e.id for e in events], list(in_scope))
        now = datetime.now(UTC)
        upline_of, terms_of = await self._network_view(
            session, project, {e.partner_id for e in events if e.partner_id}, now
        )
        rules, periods = sharing_rules(project), _Periods(project.period)
        posted = (await open_period(session, project, now)).key  # adjustments are paid in the open period
        should: dict[int, list[CommissionLine]] = {}
        amounts = {e.id: e.amount for e in events}
        was_paid: list[tuple[str, CommissionLine]] = []
        should_be: list[tuple[str, CommissionLine]] = []
        adjustments: list[EventLines] = []
        memo = self._shares.setdefault(project.id, {})
        with cycle_collection.paused():
            for e in events:  # originals come before the refunds that name them (ids grow)
                reversed_event = None
                if e.reverses is not None:
                    if e.reverses not in should:
                        continue  # a refund of an event outside the change: what it took back stands
                    reversed_event = ReversedEvent(amounts[e.reverses], should[e.reverses])
                recorded = RecordedEvent(e.id, e.kind, e.amount, e.occurred_at, e.partner_id)
                should[e.id] = [
                    line
                    for line in lines_for(recorded, rules, upline_of, terms_of, reversed_event, memo)
                    if line.partner_id in in_scope
                ]
                period = periods.key(e.occurred_at)
                event_paid = paid.get(e.id, [])
                was_paid.extend((period, line) for line in event_paid)
                should_be.extend((period, line) for line in should[e.id])
                corrected = corrections(str(e.id), event_paid, should[e.id])
                if corrected:
                    adjustments.append(EventLines(e.id, corrected, period, "adjustment", posted))
        return Recomputed(len(events), differences(was_paid, should_be), adjustments)

    async def post_adjustments(
        self,
        session: AsyncSession,
        project: affiliate.Project,
        recalculation_id: int,
        adjustments: Sequence[EventLines],
    ) -> tuple[int | None, int, str]:
        """Pay the adjustments (computed for the open period), linked to the recalculation; a clawback may take a
        wallet below zero. Keyed by the recalculation, so a retried post is the first one."""
        posted = adjustments[0].posted_period if adjustments else ""
        entry_id, total = await self._post(
            session,
            project,
            adjustments,
            f"recalculation:{recalculation_id}",
            "commission_adjustment",
            {"project": project.code, "recalculation": recalculation_id, "period": posted},
        )
        if adjustments:
            await commissions.write_lines(session, adjustments, entry_id=entry_id, recalculation_id=recalculation_id)
        return entry_id, total, posted
