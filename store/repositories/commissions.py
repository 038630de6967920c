"""Commission lines, the events waiting for distribution, partners' commission wallets, periods and statements.

The hot paths (taking a batch of events, writing its lines) talk to the driver inside the caller's transaction:
distribution writes millions of lines, and COPY is what keeps it near the raw rate (bench/commissions.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.affiliate.distribution import CommissionLine
from domain.affiliate.recalculation import Difference
from domain.ledger import AccountKind
from store import ledger
from store.ledger import Db
from store.repositories import affiliate
from store.repositories import wallets as wallet_store

COMMISSION_WALLET_TYPE = "commissions"


async def lock_project(session: Db, project_id: uuid.UUID, *, shared: bool = False) -> None:
    """Held to the end of the transaction: distribution, a period's close, a move in the network and a
    recalculation being posted never interleave on one project. Distribution holds it shared: batches of different
    lanes run side by side (they take disjoint events), while everything else waits for them and they for it."""
    lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await session.execute(text(f"SELECT {lock}(hashtextextended(:k, 0))"), {"k": f"commissions:{project_id}"})


class PendingEvent(NamedTuple):
    id: int
    client_event_id: str
    integration_id: uuid.UUID
    kind: str
    partner_id: str | None  # the referrer
    amount: int
    occurred_at: datetime
    reverses_client_event_id: str | None


async def take_pending(
    session: Db,
    project_id: uuid.UUID,
    limit: int,
    before: datetime | None = None,
    lanes: tuple[int, int] = (0, 1),
) -> list[PendingEvent]:
    """The oldest events not yet distributed (occurred before `before`, when given) in the part `lanes` = (k, n)
    names (lane % n = k), locked so that two distributors never take the same one; they leave the queue in the
    caller's transaction."""
    part, parts = lanes
    driver = await ledger.driver_of(session)
    cursor = await driver.execute(
        "WITH taken AS (DELETE FROM affiliate_event_queue WHERE (project_id, event_id) IN (SELECT project_id, event_id"
        " FROM affiliate_event_queue WHERE project_id = %s"
        + (" AND occurred_at < %s" if before else "")
        + (f" AND lane %% {int(parts)} = {int(part)}" if parts > 1 else "")
        + " ORDER BY event_id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING event_id)"
        " SELECT e.id, e.client_event_id, e.integration_id, e.kind, e.partner_id::text, e.amount, e.occurred_at,"
        " e.reverses_client_event_id FROM taken JOIN affiliate_events e ON e.id = taken.event_id",
        (project_id, *((before,) if before else ()), limit),
    )
    return sorted((PendingEvent(*row) for row in await cursor.fetchall()), key=lambda e: e.id)


async def upline_history(session: Db, partner_ids: Iterable[str]) -> dict[str, list[tuple[datetime, list[str]]]]:
    """Each partner's uplines over time (itself first, then its sponsor, up to the root), the latest first: its
    paths from the root, reversed, from the dates they apply (a move to another sponsor starts a new one)."""
    driver = await ledger.driver_of(session)
    cursor = await driver.execute(
        "SELECT partner_id::text, valid_from, path::text[] FROM partner_paths WHERE partner_id = ANY(%s::uuid[])"
        " ORDER BY partner_id, valid_from DESC",
        ([str(p) for p in partner_ids],),
    )
    found: dict[str, list[tuple[datetime, list[str]]]] = {}
    for partner_id, valid_from, path in await cursor.fetchall():
        found.setdefault(partner_id, []).append((valid_from, path[::-1]))
    return found


@dataclass(frozen=True)
class Original:
    event_id: int
    amount: int
    occurred_at: datetime
    lines: list[CommissionLine]  # what was paid for it, adjustments and earlier reversals left out


async def originals(session: Db, keys: Iterable[tuple[uuid.UUID, str]]) -> dict[tuple[uuid.UUID, str], Original]:
    """The events that refunds name (integration, client id), with the lines paid for each."""
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = await session.execute(
        text(
            "SELECT e.integration_id, e.client_event_id, e.id, e.amount, e.occurred_at, l.partner_id, l.level,"
            " l.points, l.amount AS line_amount FROM unnest(CAST(:integrations AS uuid[]), CAST(:ids AS text[]))"
            " AS k(integration_id, client_event_id) JOIN affiliate_events e ON e.integration_id = k.integration_id"
            " AND e.client_event_id = k.client_event_id LEFT JOIN commission_lines l ON l.event_id = e.id"
            " AND l.kind IN ('commission', 'adjustment')"
        ),
        {"integrations": [k[0] for k in wanted], "ids": [k[1] for k in wanted]},
    )
    found: dict[tuple[uuid.UUID, str], Original] = {}
    for r in rows:
        original = found.setdefault((r.integration_id, r.client_event_id), Original(r.id, r.amount, r.occurred_at, []))
        if r.partner_id is not None:
            original.lines.append(CommissionLine(str(r.id), str(r.partner_id), r.level, r.points, r.line_amount))
    return found


async def commission_accounts(
    session: AsyncSession, partner_ids: Iterable[uuid.UUID], currency: str
) -> dict[uuid.UUID, int]:
    """Each partner's commission wallet account in the currency, the missing ones opened in one statement each for
    accounts and wallets (a partner is a user; one wallet per user and currency holds all their projects' money)."""
    ids = list(set(partner_ids))
    await _commission_wallet_type(session, currency)
    await session.execute(
        text(
            """
            WITH owners AS (
                SELECT DISTINCT p.user_id FROM partners p WHERE p.id = ANY(:ids) AND NOT EXISTS (
                    SELECT 1 FROM wallets w WHERE w.owner_id = p.user_id AND w.type_code = :type
                    AND w.currency = :currency)
            ), fresh AS (
                SELECT user_id, gen_random_uuid() AS wallet_id FROM owners
            ), accounts_made AS (
                INSERT INTO accounts (code, owner_type, owner_id, currency, kind, allow_negative)
                SELECT 'wallet:' || wallet_id, 'user', user_id, :currency, :kind, true FROM fresh
                RETURNING id, code
            )
            INSERT INTO wallets (id, owner_id, type_code, currency, account_id)
            SELECT f.wallet_id, f.user_id, :type, :currency, a.id FROM fresh f
            JOIN accounts_made a ON a.code = 'wallet:' || f.wallet_id
            ON CONFLICT DO NOTHING
            """
        ),
        {"ids": ids, "type": COMMISSION_WALLET_TYPE, "currency": currency, "kind": AccountKind.LIABILITY.value},
    )
    rows = await session.execute(
        text(
            "SELECT p.id, w.account_id FROM partners p JOIN wallets w ON w.owner_id = p.user_id"
            " AND w.type_code = :type AND w.currency = :currency WHERE p.id = ANY(:ids)"
        ),
        {"ids": ids, "type": COMMISSION_WALLET_TYPE, "currency": currency},
    )
    return {partner_id: account_id for partner_id, account_id in rows}


async def _commission_wallet_type(session: AsyncSession, currency: str) -> None:
    """Commission wallets may go below zero (a clawback takes back what was paid); one below zero pays nothing out
    until it is positive again (activities/payments.py)."""
    row = (
        await session.execute(
            text("SELECT currencies FROM wallet_types WHERE code = :code"), {"code": COMMISSION_WALLET_TYPE}
        )
    ).one_or_none()
    if row is not None and currency in row.currencies:
        return
    currencies = sorted({*(row.currencies if row else []), currency})
    await wallet_store.put_wallet_type(
        session,
        wallet_store.WalletType(
            COMMISSION_WALLET_TYPE,
            currencies,
            currencies[0],
            0,
            None,
            Decimal(0),
            0,
            allow_negative=True,
            payouts_allowed=True,
            topups_allowed=False,
        ),
    )


class EventLines(NamedTuple):
    """The lines one event pays (or an adjustment of them), with where they belong."""

    event_id: int
    lines: Sequence[CommissionLine]
    period: str  # the event's
    kind: str  # commission | reversal | adjustment
    posted_period: str  # the statement's that carries the money


async def write_lines(
    session: Db, groups: Sequence[EventLines], *, entry_id: int | None, recalculation_id: int | None = None
) -> None:
    """The lines, and their totals per partner, statement period and kind."""
    driver = await ledger.driver_of(session)
    recalc = "\\N" if recalculation_id is None else str(recalculation_id)
    entry = "\\N" if entry_id is None else str(entry_id)
    totals: dict[tuple[str, str, str], list[int]] = {}
    async with (
        driver.cursor() as cursor,
        cursor.copy(
            "COPY commission_lines (event_id, partner_id, level, points, amount, period, posted_period,"
            " entry_id, kind, recalculation_id) FROM STDIN"
        ) as copy,
    ):
        step = 5_000  # events per chunk: the server works on one while the next is formatted
        for start in range(0, len(groups), step):
            chunk: list[str] = []
            for g in groups[start : start + step]:
                middle = f"\t{g.period}\t{g.posted_period}\t{entry}\t{g.kind}\t{recalc}\n"
                prefix = f"{g.event_id}\t"
                chunk.extend(f"{prefix}{x.partner_id}\t{x.level}\t{x.points}\t{x.amount}{middle}" for x in g.lines)
                for x in g.lines:
                    total = totals.get((x.partner_id, g.posted_period, g.kind))
                    if total is None:
                        total = totals[(x.partner_id, g.posted_period, g.kind)] = [0, 0, 0]
                    total[0] += 1
                    total[1] += x.points
                    total[2] += x.amount
            await copy.write("".join(chunk))
    async with (
        driver.cursor() as cursor,
        cursor.copy(
            "COPY commission_totals (partner_id, posted_period, kind, events, points, amount, entry_id) FROM STDIN"
        ) as copy,
    ):
        await copy.write(
            "".join(
                f"{partner}\t{period}\t{kind}\t{events}\t{points}\t{amount}\t{entry}\n"
                for (partner, period, kind), (events, points, amount) in totals.items()
            )
        )


class PastEvent(NamedTuple):
    id: int
    kind: str
    amount: int
    occurred_at: datetime
    partner_id: str | None
    reverses: int | None  # the id of the event a refund names


async def affected_events(
    session: Db,
    project_id: uuid.UUID,
    partner: affiliate.Partner,
    levels: int,
    valid_from: datetime,
    valid_to: datetime | None,
) -> list[PastEvent]:
    """Distributed events in the window whose referrer has the partner within `levels` of the line, and the refunds
    that name them; in id order, so an original comes before its refunds."""
    driver = await ledger.driver_of(session)
    cursor = await driver.execute(
        """
        WITH referrers AS (
            SELECT id FROM partners WHERE path @> ARRAY[%(partner)s::uuid] AND depth < %(depth)s + %(levels)s
        ), touched AS (
            SELECT e.id, e.kind, e.amount, e.occurred_at, e.partner_id, e.integration_id, e.client_event_id
            FROM affiliate_events e JOIN referrers r ON e.partner_id = r.id
            WHERE e.project_id = %(project)s AND e.occurred_at >= %(from)s AND NOT EXISTS (SELECT 1
                FROM affiliate_event_queue q WHERE q.project_id = e.project_id AND q.event_id = e.id)
              AND (%(to)s::timestamptz IS NULL OR e.occurred_at < %(to)s)
        )
        SELECT id, kind, amount, occurred_at, partner_id::text, NULL::bigint FROM touched
        UNION ALL
        SELECT f.id, f.kind, f.amount, f.occurred_at, f.partner_id::text, t.id FROM touched t
        JOIN affiliate_events f ON f.integration_id = t.integration_id AND f.reverses_client_event_id = t.client_event_id
        WHERE f.kind IN ('refund', 'chargeback') AND NOT EXISTS (SELECT 1 FROM affiliate_event_queue q
            WHERE q.project_id = f.project_id AND q.event_id = f.id)
        ORDER BY 1
        """,
        {
            "partner": partner.id,
            "depth": partner.depth,
            "levels": levels,
            "project": project_id,
            "from": valid_from,
            "to": valid_to,
        },
    )
    found: dict[int, PastEvent] = {}
    for row in await cursor.fetchall():
        event = PastEvent(*row)
        # A refund in the window that names an event in it comes twice: the row naming its original wins.
        if event.id not in found or event.reverses is not None:
            found[event.id] = event
    return sorted(found.values(), key=lambda e: e.id)


async def lines_of_events(
    session: Db, event_ids: Sequence[int], partner_ids: Sequence[str]
) -> dict[int, list[CommissionLine]]:
    """What each event paid the partners named, per partner and level: its commission or reversal lines and every
    adjustment since, summed."""
    driver = await ledger.driver_of(session)
    cursor = await driver.execute(
        "SELECT event_id, partner_id::text, level, sum(points)::bigint, sum(amount)::bigint FROM commission_lines"
        " WHERE event_id = ANY(%s) AND partner_id = ANY(%s::uuid[]) GROUP BY event_id, partner_id, level",
        (list(event_ids), list(partner_ids)),
    )
    found: dict[int, list[CommissionLine]] = {}
    for event_id, partner_id, level, points, amount in await cursor.fetchall():
        found.setdefault(event_id, []).append(CommissionLine(str(event_id), partner_id, level, points, amount))
    return found


# --- periods and statements ------------------------------------------------------------------------------------------


async def frozen_periods(session: Db, project_id: uuid.UUID) -> set[str]:
    """Periods closed or being closed: nothing is posted into them any more but their own close."""
    rows = await session.execute(text("SELECT period FROM commission_periods WHERE project_id = :p"), {"p": project_id})
    return {period for (period,) in rows}


async def period_status(session: Db, project_id: uuid.UUID, period: str) -> str | None:
    found = await session.scalar(
        text("SELECT status FROM commission_periods WHERE project_id = :p AND period = :k FOR UPDATE"),
        {"p": project_id, "k": period},
    )
    return str(found) if found else None


async def begin_close(
    session: Db, project_id: uuid.UUID, period: str, starts_at: datetime, ends_at: datetime, closed_by: uuid.UUID | None
) -> str:
    """Freeze the period (status `closing`): from now on nothing is posted into it but its own close."""
    await session.execute(
        text(
            "INSERT INTO commission_periods (project_id, period, starts_at, ends_at, status, closed_by)"
            " VALUES (:p, :k, :s, :e, 'closing', :by) ON CONFLICT DO NOTHING"
        ),
        {"p": project_id, "k": period, "s": starts_at, "e": ends_at, "by": closed_by},
    )
    return await period_status(session, project_id, period) or "closing"


async def write_statements(session: Db, project_id: uuid.UUID, period: str) -> int:
    """One statement per partner with money in the period: what it carried, split by kind (`events`: those that
    paid the partner a commission), and the wallet's balance when it closed."""
    result = await session.execute(
        text(
            """
            INSERT INTO commission_statements (project_id, period, partner_id, events, points, commissions,
                                               reversals, adjustments, total, wallet_balance)
            SELECT :p, :k, t.partner_id, coalesce(sum(t.events) FILTER (WHERE t.kind = 'commission'), 0),
                   sum(t.points), coalesce(sum(t.amount) FILTER (WHERE t.kind = 'commission'), 0),
                   coalesce(sum(t.amount) FILTER (WHERE t.kind = 'reversal'), 0),
                   coalesce(sum(t.amount) FILTER (WHERE t.kind = 'adjustment'), 0), sum(t.amount),
                   coalesce(max(a.balance), 0)
            FROM commission_totals t JOIN partners p ON p.id = t.partner_id
            JOIN projects pr ON pr.id = p.project_id
            LEFT JOIN wallets w ON w.owner_id = p.user_id AND w.type_code = :type AND w.currency = pr.currency
            LEFT JOIN accounts a ON a.id = w.account_id
            WHERE p.project_id = :p AND t.posted_period = :k
            GROUP BY t.partner_id
            ON CONFLICT DO NOTHING
            """
        ),
        {"p": project_id, "k": period, "type": COMMISSION_WALLET_TYPE},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def payable_at_close(
    session: Db, project_id: uuid.UUID, period: str, currency: str
) -> list[tuple[uuid.UUID, uuid.UUID, int, str]]:
    """(user, wallet, available, destination) of each partner with a statement for the period, a payout
    destination, and money to pay in the commission wallet."""
    rows = await session.execute(
        text(
            "SELECT p.user_id, w.id, a.balance - a.pending_debit, p.payout_destination FROM commission_statements s"
            " JOIN partners p ON p.id = s.partner_id JOIN wallets w ON w.owner_id = p.user_id AND w.type_code = :type"
            " AND w.currency = :currency JOIN accounts a ON a.id = w.account_id WHERE s.project_id = :p"
            " AND s.period = :k AND p.payout_destination IS NOT NULL AND a.balance - a.pending_debit > 0"
            " ORDER BY w.id"
        ),
        {"p": project_id, "k": period, "type": COMMISSION_WALLET_TYPE, "currency": currency},
    )
    return [(user_id, wallet_id, int(available), destination) for user_id, wallet_id, available, destination in rows]


async def finish_close(session: Db, project_id: uuid.UUID, period: str) -> None:
    await session.execute(
        text(
            "UPDATE commission_periods SET status = 'closed', closed_at = now() WHERE project_id = :p AND period = :k"
        ),
        {"p": project_id, "k": period},
    )


@dataclass(frozen=True)
class Statement:
    project: str
    period: str
    partner_id: uuid.UUID
    status: str  # closed | open (the open period's statement is computed as it stands)
    events: int
    points: int
    commissions: int
    reversals: int
    adjustments: int
    total: int
    currency: str


async def statements_of(session: Db, partner_ids: Sequence[uuid.UUID]) -> list[Statement]:
    """Closed periods from their statements, and every period with lines but no statement yet as it stands."""
    rows = await session.execute(
        text(
            """
            SELECT pr.code, s.period, s.partner_id, 'closed' AS status, s.events, s.points, s.commissions,
                   s.reversals, s.adjustments, s.total, pr.currency
            FROM commission_statements s JOIN projects pr ON pr.id = s.project_id WHERE s.partner_id = ANY(:ids)
            UNION ALL
            SELECT pr.code, t.posted_period, t.partner_id, 'open',
                   coalesce(sum(t.events) FILTER (WHERE t.kind = 'commission'), 0), sum(t.points),
                   coalesce(sum(t.amount) FILTER (WHERE t.kind = 'commission'), 0),
                   coalesce(sum(t.amount) FILTER (WHERE t.kind = 'reversal'), 0),
                   coalesce(sum(t.amount) FILTER (WHERE t.kind = 'adjustment'), 0), sum(t.amount), pr.currency
            FROM commission_totals t JOIN partners p ON p.id = t.partner_id JOIN projects pr ON pr.id = p.project_id
            WHERE t.partner_id = ANY(:ids) AND NOT EXISTS (SELECT 1 FROM commission_periods c
                WHERE c.project_id = p.project_id AND c.period = t.posted_period AND c.status = 'closed')
            GROUP BY pr.code, t.posted_period, t.partner_id, pr.currency
            ORDER BY 2 DESC, 1
            """
        ),
        {"ids": list(partner_ids)},
    )
    return [
        Statement(
            r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6]), int(r[7]), int(r[8]), int(r[9]), r[10].strip()
        )
        for r in rows
    ]


async def statement_recipients(session: Db, project_id: uuid.UUID, period: str) -> list[tuple[uuid.UUID, int, str]]:
    """(user, total, currency) of each partner with a statement for the period."""
    rows = await session.execute(
        text(
            "SELECT p.user_id, s.total, pr.currency FROM commission_statements s JOIN partners p ON p.id = s.partner_id"
            " JOIN projects pr ON pr.id = s.project_id WHERE s.project_id = :p AND s.period = :k ORDER BY p.user_id"
        ),
        {"p": project_id, "k": period},
    )
    return [(user_id, int(total), currency.strip()) for user_id, total, currency in rows]


# --- recalculations ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recalculation:
    id: int
    project_id: uuid.UUID
    partner_id: uuid.UUID
    terms_id: int | None
    valid_from: datetime
    valid_to: datetime | None
    cause: str  # terms | move
    scope: list[str] | None  # a move's old and new uplines
    status: str
    events: int
    total: int
    requested_by: uuid.UUID | None
    approved_by: uuid.UUID | None
    entry_id: int | None
    posted_period: str | None
    created_at: datetime
    decided_at: datetime | None


_RECALC = (
    "id, project_id, partner_id, terms_id, valid_from, valid_to, cause, scope::text[], status, events, total,"
    " requested_by,"
    " approved_by, entry_id, posted_period, created_at, decided_at"
)


async def add_recalculation(
    session: Db,
    *,
    project_id: uuid.UUID,
    partner_id: uuid.UUID,
    terms_id: int | None,
    valid_from: datetime,
    valid_to: datetime | None,
    requested_by: uuid.UUID | None,
    cause: str = "terms",
    scope: list[uuid.UUID] | None = None,
) -> int:
    found = await session.scalar(
        text(
            "INSERT INTO commission_recalculations (project_id, partner_id, terms_id, valid_from, valid_to, cause,"
            " scope, status, requested_by) VALUES (:p, :partner, :terms, :from, :to, :cause, :scope, 'computing',"
            " :by) RETURNING id"
        ),
        {
            "p": project_id,
            "partner": partner_id,
            "terms": terms_id,
            "from": valid_from,
            "to": valid_to,
            "by": requested_by,
            "cause": cause,
            "scope": scope,
        },
    )
    return int(found or 0)


async def recalculation(session: Db, recalculation_id: int, *, lock: bool = False) -> Recalculation | None:
    row = (
        await session.execute(
            text(f"SELECT {_RECALC} FROM commission_recalculations WHERE id = :id" + (" FOR UPDATE" if lock else "")),
            {"id": recalculation_id},
        )
    ).one_or_none()
    return None if row is None else Recalculation(*row)


async def save_preview(
    session: Db, recalculation_id: int, found: Sequence[Difference], *, events: int, status: str
) -> None:
    """The preview is what an approver sees; it is replaced when a later look finds the numbers moved."""
    await session.execute(
        text("DELETE FROM recalculation_differences WHERE recalculation_id = :id"), {"id": recalculation_id}
    )
    if found:
        await session.execute(
            text(
                "INSERT INTO recalculation_differences (recalculation_id, partner_id, period, paid, should_be)"
                " SELECT :id, * FROM unnest(CAST(:partners AS uuid[]), CAST(:periods AS text[]),"
                " CAST(:paid AS bigint[]), CAST(:should AS bigint[]))"
            ),
            {
                "id": recalculation_id,
                "partners": [d.partner_id for d in found],
                "periods": [d.period for d in found],
                "paid": [d.paid for d in found],
                "should": [d.should_be for d in found],
            },
        )
    await session.execute(
        text("UPDATE commission_recalculations SET status = :status, events = :events, total = :total WHERE id = :id"),
        {"id": recalculation_id, "status": status, "events": events, "total": sum(d.amount for d in found)},
    )


async def preview_of(session: Db, recalculation_id: int) -> list[Difference]:
    rows = await session.execute(
        text(
            "SELECT partner_id, period, paid, should_be FROM recalculation_differences WHERE recalculation_id = :id"
            " ORDER BY partner_id, period"
        ),
        {"id": recalculation_id},
    )
    return [Difference(str(partner), period, int(paid), int(should)) for partner, period, paid, should in rows]


async def decide(
    session: Db,
    recalculation_id: int,
    *,
    status: str,
    approved_by: uuid.UUID | None = None,
    entry_id: int | None = None,
    posted_period: str | None = None,
) -> None:
    await session.execute(
        text(
            "UPDATE commission_recalculations SET status = :status, approved_by = :by, entry_id = :entry,"
            " posted_period = :period, decided_at = now() WHERE id = :id"
        ),
        {"id": recalculation_id, "status": status, "by": approved_by, "entry": entry_id, "period": posted_period},
    )


async def has_distributed_since(session: Db, project_id: uuid.UUID, since: datetime) -> bool:
    """Whether anything at or after `since` was paid already (so new terms from then change what was paid)."""
    found = await session.scalar(
        text(
            "SELECT EXISTS (SELECT 1 FROM affiliate_events e WHERE e.project_id = :p AND e.occurred_at >= :since"
            " AND NOT EXISTS (SELECT 1 FROM affiliate_event_queue q WHERE q.project_id = e.project_id"
            " AND q.event_id = e.id))"
        ),
        {"p": project_id, "since": since},
    )
    return bool(found)


async def recalculations_of(session: Db, project_id: uuid.UUID, limit: int = 100) -> list[Recalculation]:
    """The project's recalculations, newest first (previews waiting for approval among them)."""
    rows = await session.execute(
        text(f"SELECT {_RECALC} FROM commission_recalculations WHERE project_id = :p ORDER BY id DESC LIMIT :limit"),
        {"p": project_id, "limit": limit},
    )
    return [Recalculation(*row) for row in rows]


async def earned_since(session: Db, partner_ids: Sequence[uuid.UUID], since: datetime) -> list[dict[str, Any]]:
    """What each partner's lines added since a moment (a partner's "today"), per project: commission lines are
    append-only and written in time order, so a BRIN index on `created_at` keeps this a short range read."""
    rows = await session.execute(
        text(
            """
            SELECT pr.code AS project, pr.currency AS currency, l.partner_id AS partner_id,
                   count(*) FILTER (WHERE l.kind = 'commission') AS lines, sum(l.amount) AS amount
            FROM commission_lines l JOIN partners p ON p.id = l.partner_id JOIN projects pr ON pr.id = p.project_id
            WHERE l.created_at >= :since AND l.partner_id = ANY(:ids)
            GROUP BY pr.code, pr.currency, l.partner_id ORDER BY pr.code
            """
        ),
        {"ids": list(partner_ids), "since": since},
    )
    return [
        {**r._mapping, "currency": r.currency.strip(), "lines": int(r.lines), "amount": int(r.amount)} for r in rows
    ]


async def earned_by(session: Db, partner_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Everything each partner's lines came to, all periods (a member's contribution in a genealogy tree)."""
    if not partner_ids:
        return {}
    rows = await session.execute(
        text(
            "SELECT partner_id, sum(amount) AS amount FROM commission_totals WHERE partner_id = ANY(:ids)"
            " GROUP BY partner_id"
        ),
        {"ids": list(partner_ids)},
    )
    return {r.partner_id: int(r.amount) for r in rows}


async def statement_lines(session: Db, partner_id: uuid.UUID, period: str) -> list[dict[str, Any]]:
    """What makes up one partner's statement for a period: one line per posting (a distribution batch, a
    clawback, an adjustment), in the order they were posted."""
    rows = await session.execute(
        text(
            "SELECT kind, events, points, amount, entry_id FROM commission_totals"
            " WHERE partner_id = :partner AND posted_period = :period ORDER BY entry_id NULLS FIRST, kind"
        ),
        {"partner": partner_id, "period": period},
    )
    return [{**r._mapping, "events": int(r.events), "points": int(r.points), "amount": int(r.amount)} for r in rows]


async def pending_differences_for(session: Db, partner_ids: Sequence[uuid.UUID]) -> list[dict[str, Any]]:
    """Recalculations awaiting approval that would change what these partners were paid, per period."""
    rows = await session.execute(
        text(
            """
            SELECT r.id AS recalculation_id, pr.code AS project, pr.currency AS currency, d.period AS period,
                   d.paid AS paid, d.should_be AS should_be, r.created_at AS requested_at
            FROM recalculation_differences d
            JOIN commission_recalculations r ON r.id = d.recalculation_id AND r.status = 'previewed'
            JOIN projects pr ON pr.id = r.project_id
            WHERE d.partner_id = ANY(:ids) AND d.paid <> d.should_be
            ORDER BY r.created_at DESC, d.period
            """
        ),
        {"ids": list(partner_ids)},
    )
    return [
        {**r._mapping, "currency": r.currency.strip(), "paid": int(r.paid), "should_be": int(r.should_be)} for r in rows
    ]
