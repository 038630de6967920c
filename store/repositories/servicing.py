"""What servicing keeps besides the ledger: the business calendar (close-of-business runs), each loan's events and
posted state, and the engine's projection of its coming nights that close of business posts set-based.

Concurrency between close of business and a loan's own changes (docs/servicing.md): a change to a loan takes a
shared advisory lock and the loan row; starting a close of business takes the lock exclusively, so once a date is
marked running every change sees it, and a change that began earlier has finished and rewritten its projection."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.lending.engine import (
    Component,
    Extension,
    FeeCharge,
    LoanEvent,
    RateChange,
    Repayment,
    SignedLoan,
    Waiver,
    WriteOff,
)
from domain.lending.postings import PostedState
from domain.lending.products import terms_from_stored
from domain.lending.schedule import build_schedule
from domain.lending.servicing import NightRow
from domain.partitions import id_ranges

COB_LOCK = 7_320_001  # advisory lock key: business calendar

FULL_RANGE = id_ranges(1)[0]  # every loan id


async def share_calendar(session: AsyncSession) -> None:
    await session.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": COB_LOCK})


async def own_calendar(session: AsyncSession) -> None:
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": COB_LOCK})


@dataclass(frozen=True)
class Calendar:
    last_closed: date | None
    running: date | None

    @property
    def posted_through(self) -> date | None:
        """The last night whose accrual is (or is being) posted for every loan."""
        return self.running or self.last_closed


async def calendar(session: AsyncSession) -> Calendar:
    row = (
        await session.execute(
            text(
                "SELECT max(business_date) FILTER (WHERE status = 'closed') AS last_closed,"
                " max(business_date) FILTER (WHERE status = 'running') AS running FROM cob_runs"
            )
        )
    ).one()
    return Calendar(row.last_closed, row.running)


async def first_loan_start(session: AsyncSession) -> date | None:
    found = await session.scalar(text("SELECT min(start_date) FROM loans"))
    return found if isinstance(found, date) else None


async def begin_cob(session: AsyncSession, business_date: date, workflow_id: str) -> str:
    """Mark the date running; answers the date's status before ('new', 'running' or 'closed')."""
    before = await session.scalar(
        text("SELECT status FROM cob_runs WHERE business_date = :d FOR UPDATE"), {"d": business_date}
    )
    if before is None:
        await session.execute(
            text("INSERT INTO cob_runs (business_date, status, workflow_id) VALUES (:d, 'running', :wf)"),
            {"d": business_date, "wf": workflow_id},
        )
        return "new"
    return str(before)


async def finish_cob(
    session: AsyncSession, business_date: date, *, loans_accrued: int, projections_refreshed: int, notices: int
) -> None:
    # The tally the batches committed is exact (a range resumed from its heartbeat may report fewer than it did).
    await session.execute(
        text(
            "UPDATE cob_runs SET status = 'closed', finished_at = now(), loans_accrued = greatest(:accrued,"
            " loans_accrued + coalesce((SELECT sum(p.loans) FROM cob_range_progress p WHERE p.business_date = :d), 0)),"
            " projections_refreshed = :refreshed, notices = :notices WHERE business_date = :d AND status = 'running'"
        ),
        {"d": business_date, "accrued": loans_accrued, "refreshed": projections_refreshed, "notices": notices},
    )
    await session.execute(text("DELETE FROM cob_range_progress WHERE business_date = :d"), {"d": business_date})


async def cob_runs(session: AsyncSession, limit: int = 30) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT business_date, status, workflow_id, loans_accrued + CASE WHEN status = 'running' THEN"
            " coalesce((SELECT sum(p.loans) FROM cob_range_progress p WHERE p.business_date = r.business_date), 0)"
            " ELSE 0 END AS loans_accrued, projections_refreshed, notices, started_at,"
            " finished_at FROM cob_runs r ORDER BY business_date DESC LIMIT :limit"
        ),
        {"limit": limit},
    )
    return [dict(r._mapping) for r in rows]


# --- a loan's servicing state -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServicedLoan:
    id: uuid.UUID
    user_id: uuid.UUID
    product_id: uuid.UUID
    currency: str
    principal: int
    term_days: int
    start_date: date
    due_date: date
    status: str
    card_id: uuid.UUID | None
    accounts: dict[str, Any]
    terms: dict[str, Any]
    posted: PostedState
    accrued_through: date
    projected_until: date | None
    overdue_since: date | None
    extensions: int
    closed_on: date | None
    collector_id: uuid.UUID | None
    first_due_date: date | None = None


_SERVICED = (
    "id, user_id, product_id, currency, principal, term_days, start_date, due_date, status, card_id, accounts, terms,"
    " accrued_interest, accrued_penalty, accrued_fines, accrued_fees, settled, accrued_through, projected_until,"
    " overdue_since, extensions, closed_on, collector_id, first_due_date"
)


def _components(stored: dict[str, Any] | None) -> dict[Component, int]:
    return {Component(name): int(amount) for name, amount in (stored or {}).items()}


def _serviced(row: Any) -> ServicedLoan:
    m = dict(row._mapping)
    settled = m.pop("settled") or {}
    posted = PostedState(
        accrued={
            Component.INTEREST: m.pop("accrued_interest"),
            Component.PENALTY: m.pop("accrued_penalty"),
            Component.FINES: m.pop("accrued_fines"),
            Component.FEES: m.pop("accrued_fees"),
        },
        paid=_components(settled.get("paid")),
        waived=_components(settled.get("waived")),
        overpayment=int(settled.get("overpayment", 0)),
    )
    return ServicedLoan(**{**m, "currency": m["currency"].strip(), "posted": posted})


async def serviced_loan(session: AsyncSession, loan_id: uuid.UUID, *, lock: bool = False) -> ServicedLoan | None:
    row = (
        await session.execute(
            text(f"SELECT {_SERVICED} FROM loans WHERE id = :id" + (" FOR UPDATE" if lock else "")), {"id": loan_id}
        )
    ).one_or_none()
    return None if row is None else _serviced(row)


async def save_posted(
    session: AsyncSession,
    loan_id: uuid.UUID,
    posted: PostedState,
    *,
    accrued_through: date,
    status: str,
    due_date: date,
    overdue_since: date | None,
    extensions: int,
    closed_on: date | None,
) -> None:
    settled = {
        "paid": {c.value: a for c, a in posted.paid.items() if a},
        "waived": {c.value: a for c, a in posted.waived.items() if a},
        "overpayment": posted.overpayment,
    }
    await session.execute(
        text(
            "UPDATE loans SET accrued_interest = :interest, accrued_penalty = :penalty, accrued_fines = :fines,"
            " accrued_fees = :fees, settled = CAST(:settled AS jsonb), accrued_through = :through, status = :status,"
            " due_date = :due, overdue_since = :overdue_since, extensions = :extensions, closed_on = :closed"
            " WHERE id = :id"
        ),
        {
            "id": loan_id,
            "interest": posted.accrued[Component.INTEREST],
            "penalty": posted.accrued[Component.PENALTY],
            "fines": posted.accrued[Component.FINES],
            "fees": posted.accrued[Component.FEES],
            "settled": json.dumps(settled),
            "through": accrued_through,
            "status": status,
            "due": due_date,
            "overdue_since": overdue_since,
            "extensions": extensions,
            "closed": closed_on,
        },
    )


@dataclass(frozen=True)
class LoanEventRow:
    id: int
    kind: str
    value_date: date
    amount: int | None
    days: int | None
    component: str | None
    daily_rate: Decimal | None
    reference: str
    entry_id: int | None
    actor_id: uuid.UUID | None
    reason: str | None


async def loan_events(session: AsyncSession, loan_id: uuid.UUID) -> list[LoanEventRow]:
    rows = await session.execute(
        text(
            "SELECT id, kind, value_date, amount, days, component, daily_rate, reference, entry_id, actor_id, reason"
            " FROM loan_events WHERE loan_id = :loan ORDER BY value_date, id"
        ),
        {"loan": loan_id},
    )
    return [LoanEventRow(*r) for r in rows]


async def event_by_reference(session: AsyncSession, reference: str) -> LoanEventRow | None:
    row = (
        await session.execute(
            text(
                "SELECT id, kind, value_date, amount, days, component, daily_rate, reference, entry_id, actor_id,"
                " reason FROM loan_events WHERE reference = :ref"
            ),
            {"ref": reference},
        )
    ).one_or_none()
    return None if row is None else LoanEventRow(*row)


async def add_event(
    session: AsyncSession,
    loan_id: uuid.UUID,
    *,
    kind: str,
    value_date: date,
    reference: str,
    amount: int | None = None,
    days: int | None = None,
    component: str | None = None,
    daily_rate: Decimal | None = None,
    actor_id: uuid.UUID | None = None,
    reason: str | None = None,
) -> int:
    event_id = await session.scalar(
        text(
            "INSERT INTO loan_events (loan_id, kind, value_date, amount, days, component, daily_rate, reference,"
            " actor_id, reason) VALUES (:loan, :kind, :d, :amount, :days, :component, :rate, :ref, :actor, :reason)"
            " RETURNING id"
        ),
        {
            "loan": loan_id,
            "kind": kind,
            "d": value_date,
            "amount": amount,
            "days": days,
            "component": component,
            "rate": daily_rate,
            "ref": reference,
            "actor": actor_id,
            "reason": reason,
        },
    )
    return int(event_id or 0)


async def set_event_entry(session: AsyncSession, event_ids: Sequence[int], entry_id: int) -> None:
    await session.execute(
        text("UPDATE loan_events SET entry_id = :entry WHERE id = ANY(:ids)"), {"entry": entry_id, "ids": event_ids}
    )


# --- projections --------------------------------------------------------------------------------------------------


async def replace_projection(
    session: AsyncSession, loan_id: uuid.UUID, start: date, rows: Sequence[NightRow], projected_until: date | None
) -> None:
    """The loan's nights from `start` on are these (earlier ones are history)."""
    await session.execute(
        text("DELETE FROM loan_night_projections WHERE loan_id = :loan AND accrual_date >= :start"),
        {"loan": loan_id, "start": start},
    )
    await append_projection(session, loan_id, rows, projected_until)


async def append_projection(
    session: AsyncSession, loan_id: uuid.UUID, rows: Sequence[NightRow], projected_until: date | None
) -> None:
    if rows:
        await session.execute(
            text(
                "INSERT INTO loan_night_projections (accrual_date, loan_id, interest, penalty, fines, status,"
                " overdue_since, notice) SELECT d, :loan, i, p, f, s, o, n FROM unnest(CAST(:d AS date[]),"
                " CAST(:i AS bigint[]), CAST(:p AS bigint[]), CAST(:f AS bigint[]), CAST(:s AS text[]),"
                " CAST(:o AS date[]), CAST(:n AS text[])) AS t(d, i, p, f, s, o, n)"
            ),
            {
                "loan": loan_id,
                "d": [r.accrual_date for r in rows],
                "i": [r.interest for r in rows],
                "p": [r.penalty for r in rows],
                "f": [r.fines for r in rows],
                "s": [r.status for r in rows],
                "o": [r.overdue_since for r in rows],
                "n": [r.notice for r in rows],
            },
        )
    await session.execute(
        text("UPDATE loans SET projected_until = :until WHERE id = :loan"), {"loan": loan_id, "until": projected_until}
    )


async def loans_to_project(
    session: AsyncSession, night: date, limit: int, ids: tuple[uuid.UUID, uuid.UUID] = FULL_RANGE
) -> list[uuid.UUID]:
    """Open loans whose projection does not reach `night` yet, with ids in (after, through]."""
    rows = await session.execute(
        text(
            "SELECT id FROM loans WHERE status IN ('active', 'overdue') AND projected_until <= :night"
            " AND id > :after AND id <= :through ORDER BY projected_until, id LIMIT :limit"
        ),
        {"night": night, "limit": limit, "after": ids[0], "through": ids[1]},
    )
    return [r[0] for r in rows]


# --- close of business, set-based ---------------------------------------------------------------------------------

# One statement per batch of loans (in loan id order after a cursor): the batch's projected nights become journal
# entries (ids reserved in the same statement), their postings (receivable against income per component), the
# loans' own accounts' balances, and the loans' posted totals, through date and status; it answers the income
# accounts' totals, which `_ACCRUE_HOUSE` then moves in the same transaction. Loans already past the date (a change
# posted their night, or an earlier try of this batch committed) are not selected, which is what makes a rerun
# change nothing.
_ACCRUE_BATCH = """
WITH batch AS MATERIALIZED (
    SELECT l.id AS loan_id, l.currency, l.accounts, p.interest, p.penalty, p.fines, p.status, p.overdue_since,
           CASE WHEN p.interest <> 0 OR p.penalty <> 0 OR p.fines <> 0
                THEN nextval('journal_entries_id_seq') END AS entry_id
    FROM loan_night_projections p JOIN loans l ON l.id = p.loan_id
    WHERE p.accrual_date = %(d)s AND p.loan_id > %(after)s AND p.loan_id <= %(through)s AND l.accrued_through < %(d)s
      AND l.status IN ('active', 'overdue')
    ORDER BY p.loan_id LIMIT %(limit)s
    FOR NO KEY UPDATE OF l
), entries AS (
    INSERT INTO journal_entries (id, idempotency_key, content_hash, kind, value_date)
    SELECT entry_id, 'loan:' || loan_id || ':accrual:' || %(d)s::text,
           sha256(convert_to(concat_ws('|', 'loan_accrual', %(d)s::text, loan_id, interest, penalty, fines), 'UTF8')),
           'loan_accrual', %(d)s
    FROM batch WHERE entry_id IS NOT NULL
), legs AS (
    SELECT b.entry_id, b.currency, v.account_id, v.amount, v.house
    FROM batch b CROSS JOIN LATERAL (VALUES
        ((b.accounts #>> '{receivable,interest}')::bigint, -b.interest, false),
        ((b.accounts #>> '{income,interest}')::bigint, b.interest, true),
        ((b.accounts #>> '{receivable,penalty}')::bigint, -b.penalty, false),
        ((b.accounts #>> '{income,penalty}')::bigint, b.penalty, true),
        ((b.accounts #>> '{receivable,fines}')::bigint, -b.fines, false),
        ((b.accounts #>> '{income,fines}')::bigint, b.fines, true)
    ) AS v(account_id, amount, house)
    WHERE b.entry_id IS NOT NULL AND v.amount <> 0
), posted AS (
    INSERT INTO postings (entry_id, account_id, amount, currency, value_date)
    SELECT entry_id, account_id, amount, currency, %(d)s FROM legs
), moved AS (
    UPDATE loans l SET accrued_interest = l.accrued_interest + b.interest,
        accrued_penalty = l.accrued_penalty + b.penalty, accrued_fines = l.accrued_fines + b.fines,
        accrued_through = %(d)s, status = coalesce(b.status, l.status),
        overdue_since = CASE WHEN b.status IS NULL THEN l.overdue_since ELSE b.overdue_since END
    FROM batch b WHERE l.id = b.loan_id
), deltas AS (
    SELECT account_id, sum(amount) AS delta FROM legs WHERE NOT house GROUP BY account_id HAVING sum(amount) <> 0
), locked AS MATERIALIZED (
    -- Accounts are locked in id order, as every ledger write locks them, so nothing can deadlock with this.
    SELECT id FROM accounts WHERE id IN (SELECT account_id FROM deltas) ORDER BY id FOR NO KEY UPDATE
), balances AS (
    UPDATE accounts a SET balance = a.balance + d.delta FROM deltas d
    WHERE a.id = d.account_id AND a.id IN (SELECT id FROM locked)
), house AS (
    SELECT account_id, sum(amount) AS delta FROM legs WHERE house GROUP BY account_id HAVING sum(amount) <> 0
)
SELECT (SELECT loan_id FROM batch ORDER BY loan_id DESC LIMIT 1), (SELECT count(*) FROM batch), (SELECT count(entry_id) FROM batch),
       (SELECT array_agg(account_id ORDER BY account_id) FROM house), (SELECT array_agg(delta ORDER BY account_id) FROM house)
"""

# The income accounts every batch shares, moved by the batch's totals as its last statement: their row locks are
# held from here to the commit only, so ranges closing side by side do not queue behind each other's inserts.
_ACCRUE_HOUSE = """
UPDATE accounts a SET balance = a.balance + d.delta
FROM unnest(%(ids)s::bigint[], %(deltas)s::bigint[]) AS d(id, delta)
WHERE a.id = d.id AND a.id IN (SELECT id FROM accounts WHERE id = ANY(%(ids)s) ORDER BY id FOR NO KEY UPDATE)
"""


@dataclass(frozen=True)
class AccrualBatch:
    last_loan_id: uuid.UUID | None
    loans: int
    entries: int


async def accrue_batch(
    driver: Any, business_date: date, after: uuid.UUID | None, limit: int, through: uuid.UUID = FULL_RANGE[1]
) -> AccrualBatch:
    """Post one batch of the date's projected nights, loans after the cursor up to `through` (call inside a
    transaction on the raw psycopg connection)."""
    cursor = await driver.execute(
        _ACCRUE_BATCH, {"d": business_date, "after": after or uuid.UUID(int=0), "through": through, "limit": limit}
    )
    last, loans, entries, house_ids, house_deltas = await cursor.fetchone()
    if house_ids:
        await driver.execute(_ACCRUE_HOUSE, {"ids": house_ids, "deltas": house_deltas})
    return AccrualBatch(last, int(loans), int(entries))


async def accrual_progress(driver: Any, business_date: date, loans_accrued: int) -> None:
    """How many loans the running close of business has accrued so far for its date."""
    await driver.execute(
        "UPDATE cob_runs SET loans_accrued = %(n)s WHERE business_date = %(d)s AND status = 'running'",
        {"d": business_date, "n": loans_accrued},
    )


async def add_accrual_progress(driver: Any, business_date: date, range_through: uuid.UUID, loans: int) -> None:
    """The same tally when ranges run side by side: each batch adds its loans to its range's own row, in the
    batch's transaction (migration 0020)."""
    await driver.execute(
        "INSERT INTO cob_range_progress (business_date, range_through, loans) VALUES (%(d)s, %(r)s, %(n)s)"
        " ON CONFLICT (business_date, range_through) DO UPDATE SET loans = cob_range_progress.loans + excluded.loans",
        {"d": business_date, "r": range_through, "n": loans},
    )


async def loans_to_accrue(session: AsyncSession, business_date: date) -> int:
    """The loans whose projected night on this date posts or tells something: what a close of the date visits."""
    found = await session.scalar(
        text("SELECT count(DISTINCT loan_id) FROM loan_night_projections WHERE accrual_date = :d"),
        {"d": business_date},
    )
    return int(found or 0)


async def notices_for(session: AsyncSession, business_date: date) -> list[tuple[uuid.UUID, str]]:
    rows = await session.execute(
        text(
            "SELECT p.loan_id, p.notice FROM loan_night_projections p JOIN loans l ON l.id = p.loan_id"
            " WHERE p.accrual_date = :d AND p.notice IS NOT NULL AND l.status IN ('active', 'overdue')"
            " ORDER BY p.loan_id"
        ),
        {"d": business_date},
    )
    return [(r[0], r[1]) for r in rows]


async def promises_due(session: AsyncSession, business_date: date) -> list[tuple[uuid.UUID, int]]:
    rows = await session.execute(
        text("SELECT loan_id, id FROM payment_promises WHERE status = 'open' AND promised_date <= :d ORDER BY id"),
        {"d": business_date},
    )
    return [(r[0], r[1]) for r in rows]


# --- the loan in the engine's terms ---------------------------------------------------------------------------


def signed_loan(loan: ServicedLoan) -> SignedLoan:
    terms = terms_from_stored(loan.terms, loan.currency)
    return SignedLoan(
        terms,
        loan.principal,
        loan.start_date,
        build_schedule(terms, loan.principal, loan.start_date, loan.term_days, loan.first_due_date),
    )


def engine_events(rows: Sequence[LoanEventRow]) -> list[LoanEvent]:
    events: list[LoanEvent] = []
    for row in rows:
        if row.kind == "repayment":
            events.append(Repayment(row.value_date, int(row.amount or 0), seq=row.id))
        elif row.kind == "extension":
            events.append(Extension(row.value_date, int(row.days or 0), seq=row.id))
        elif row.kind == "fee":
            events.append(FeeCharge(row.value_date, int(row.amount or 0), seq=row.id))
        elif row.kind == "waiver":
            events.append(Waiver(row.value_date, Component(row.component or ""), int(row.amount or 0), seq=row.id))
        elif row.kind == "write_off":
            events.append(WriteOff(row.value_date, seq=row.id))
        elif row.kind == "rate_change":
            events.append(RateChange(row.value_date, Decimal(row.daily_rate or 0), seq=row.id))
        # recoveries come after a write-off and are not the engine's business
    return events


async def open_business_date(session: AsyncSession, timezone: str) -> date:
    """The business date new things happen on: the day after the last one close of business took (or is taking);
    before the first close of business, today in the market's time zone."""
    cal = await calendar(session)
    if cal.posted_through is not None:
        return cal.posted_through + timedelta(days=1)
    return datetime.now(ZoneInfo(timezone)).date()


async def entry_allocation(session: AsyncSession, entry_id: int) -> dict[str, int]:
    """What one entry did to a loan: per component the amount paid off (or waived), and what went to a wallet."""
    rows = await session.execute(
        text(
            "SELECT CASE WHEN a.code LIKE 'loan:%' THEN split_part(a.code, ':', 3) ELSE 'overpayment' END, sum(p.amount)"
            " FROM postings p JOIN accounts a ON a.id = p.account_id WHERE p.entry_id = :entry"
            " AND (a.code LIKE 'loan:%' OR a.code LIKE 'wallet:%') GROUP BY 1"
        ),
        {"entry": entry_id},
    )
    return {name: int(amount) for name, amount in rows if amount}


async def staff_loans(session: AsyncSession, status: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT id, user_id, product_id, status, currency, principal, start_date, due_date, overdue_since,"
            " extensions, collector_id FROM loans WHERE CAST(:status AS text) IS NULL OR status = :status"
            " ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset"
        ),
        {"status": status, "limit": limit, "offset": offset},
    )
    return [dict(r._mapping) | {"currency": r.currency.strip()} for r in rows]
