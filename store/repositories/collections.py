"""Collections: ladders per product (append-only versions), one case per overdue loan, collectors' contacts and
promises to pay, and the queue collectors work from."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def put_ladder(
    session: AsyncSession, product_id: uuid.UUID, steps: list[dict[str, Any]], created_by: uuid.UUID | None
) -> int:
    found = await session.scalar(
        text(
            "INSERT INTO collection_ladders (product_id, steps, created_by) VALUES (:p, CAST(:s AS jsonb), :by)"
            " RETURNING id"
        ),
        {"p": product_id, "s": json.dumps(steps), "by": created_by},
    )
    return int(found or 0)


async def ladder(session: AsyncSession, product_id: uuid.UUID) -> list[dict[str, Any]] | None:
    steps = await session.scalar(
        text("SELECT steps FROM collection_ladders WHERE product_id = :p ORDER BY id DESC LIMIT 1"), {"p": product_id}
    )
    return None if steps is None else list(steps)


@dataclass(frozen=True)
class Case:
    loan_id: uuid.UUID
    status: str  # open | closed
    steps_done: list[str]
    failed_debits: int
    last_decline: str | None
    escalated: bool
    handed_over_to: str | None
    opened_on: date
    closed_on: date | None


_CASE = "loan_id, status, steps_done, failed_debits, last_decline, escalated, handed_over_to, opened_on, closed_on"


async def open_case(session: AsyncSession, loan_id: uuid.UUID, opened_on: date) -> Case:
    """The loan's case, opened the first time it is overdue and reopened (ladder from the start) when a loan that
    was brought current falls behind again."""
    await session.execute(
        text(
            "INSERT INTO collection_cases (loan_id, opened_on) VALUES (:loan, :d) ON CONFLICT (loan_id) DO UPDATE"
            " SET status = 'open', steps_done = '{}', opened_on = :d, closed_on = NULL, updated_at = now()"
            " WHERE collection_cases.status = 'closed'"
        ),
        {"loan": loan_id, "d": opened_on},
    )
    found = await case(session, loan_id)
    assert found is not None
    return found


async def case(session: AsyncSession, loan_id: uuid.UUID, *, lock: bool = False) -> Case | None:
    row = (
        await session.execute(
            text(f"SELECT {_CASE} FROM collection_cases WHERE loan_id = :loan" + (" FOR UPDATE" if lock else "")),
            {"loan": loan_id},
        )
    ).one_or_none()
    if row is None:
        return None
    fields = dict(row._mapping)
    return Case(**{**fields, "steps_done": list(fields["steps_done"])})


# What a ladder step may change on its case besides marking itself done.
STEP_CHANGES = frozenset({"failed_debits", "last_decline", "escalated", "handed_over_to"})


async def step_done(session: AsyncSession, loan_id: uuid.UUID, step: str, **changes: Any) -> None:
    unknown = set(changes) - STEP_CHANGES
    if unknown:
        raise ValueError(f"a ladder step cannot change {sorted(unknown)}")
    sets = "".join(f", {column} = :{column}" for column in sorted(changes))
    await session.execute(
        text(
            "UPDATE collection_cases SET steps_done = array_append(steps_done, CAST(:step AS text)),"
            f" updated_at = now(){sets} WHERE loan_id = :loan AND NOT (CAST(:step AS text) = ANY(steps_done))"
        ),
        {"loan": loan_id, "step": step, **changes},
    )


async def record_debit(session: AsyncSession, loan_id: uuid.UUID, *, failed: bool, decline: str | None) -> None:
    await session.execute(
        text(
            "UPDATE collection_cases SET failed_debits = failed_debits + CASE WHEN :failed THEN 1 ELSE 0 END,"
            " last_decline = CASE WHEN :failed THEN CAST(:decline AS text) ELSE last_decline END, updated_at = now()"
            " WHERE loan_id = :loan"
        ),
        {"loan": loan_id, "failed": failed, "decline": decline},
    )


async def close_case(session: AsyncSession, loan_id: uuid.UUID, closed_on: date) -> None:
    await session.execute(
        text(
            "UPDATE collection_cases SET status = 'closed', closed_on = :d, updated_at = now()"
            " WHERE loan_id = :loan AND status = 'open'"
        ),
        {"loan": loan_id, "d": closed_on},
    )


async def assign(session: AsyncSession, loan_id: uuid.UUID, collector_id: uuid.UUID | None) -> None:
    await session.execute(
        text("UPDATE loans SET collector_id = :c WHERE id = :loan"), {"loan": loan_id, "c": collector_id}
    )


async def least_loaded_collector(session: AsyncSession, *, senior: bool = False) -> uuid.UUID | None:
    """The active collector (an admin for escalations when no one else) with the fewest open overdue loans."""
    roles = ["admin"] if senior else ["collector"]
    found = await session.scalar(
        text(
            "SELECT s.id FROM staff s LEFT JOIN loans l ON l.collector_id = s.id AND l.status = 'overdue'"
            " WHERE s.roles && CAST(:roles AS varchar[]) AND s.active GROUP BY s.id ORDER BY count(l.id), s.id LIMIT 1"
        ),
        {"roles": roles},
    )
    return found if isinstance(found, uuid.UUID) else None


async def add_contact(
    session: AsyncSession, loan_id: uuid.UUID, staff_id: uuid.UUID | None, channel: str, outcome: str, note: str | None
) -> int:
    found = await session.scalar(
        text(
            "INSERT INTO collection_contacts (loan_id, staff_id, channel, outcome, note) VALUES (:loan, :staff,"
            " :channel, :outcome, :note) RETURNING id"
        ),
        {"loan": loan_id, "staff": staff_id, "channel": channel, "outcome": outcome, "note": note},
    )
    return int(found or 0)


async def contacts(session: AsyncSession, loan_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT id, staff_id, channel, outcome, note, created_at FROM collection_contacts WHERE loan_id = :loan"
            " ORDER BY id"
        ),
        {"loan": loan_id},
    )
    return [dict(r._mapping) for r in rows]


async def add_promise(
    session: AsyncSession,
    loan_id: uuid.UUID,
    promised_date: date,
    amount: int,
    paid_before: int,
    staff_id: uuid.UUID | None,
) -> int:
    """A new promise replaces an open one: the borrower's latest word is the one that counts."""
    await session.execute(
        text("UPDATE payment_promises SET status = 'replaced' WHERE loan_id = :loan AND status = 'open'"),
        {"loan": loan_id},
    )
    found = await session.scalar(
        text(
            "INSERT INTO payment_promises (loan_id, promised_date, amount, paid_before, staff_id) VALUES (:loan,"
            " :d, :amount, :paid, :staff) RETURNING id"
        ),
        {"loan": loan_id, "d": promised_date, "amount": amount, "paid": paid_before, "staff": staff_id},
    )
    return int(found or 0)


@dataclass(frozen=True)
class Promise:
    id: int
    loan_id: uuid.UUID
    promised_date: date
    amount: int
    status: str
    paid_before: int


async def promise(session: AsyncSession, promise_id: int) -> Promise | None:
    row = (
        await session.execute(
            text("SELECT id, loan_id, promised_date, amount, status, paid_before FROM payment_promises WHERE id = :id"),
            {"id": promise_id},
        )
    ).one_or_none()
    return None if row is None else Promise(*row)


async def open_promise(session: AsyncSession, loan_id: uuid.UUID) -> Promise | None:
    row = (
        await session.execute(
            text(
                "SELECT id, loan_id, promised_date, amount, status, paid_before FROM payment_promises"
                " WHERE loan_id = :loan AND status = 'open' ORDER BY id DESC LIMIT 1"
            ),
            {"loan": loan_id},
        )
    ).one_or_none()
    return None if row is None else Promise(*row)


async def resolve_promise(session: AsyncSession, promise_id: int, status: str, on: date) -> bool:
    result = await session.execute(
        text("UPDATE payment_promises SET status = :status, resolved_on = :d WHERE id = :id AND status = 'open'"),
        {"id": promise_id, "status": status, "d": on},
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def total_paid(session: AsyncSession, loan_id: uuid.UUID) -> int:
    found = await session.scalar(
        text(
            "SELECT coalesce(sum(amount), 0) FROM loan_events WHERE loan_id = :loan AND kind IN ('repayment',"
            " 'recovery')"
        ),
        {"loan": loan_id},
    )
    return int(found or 0)


async def queue(
    session: AsyncSession, today: date, collector_id: uuid.UUID | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Overdue loans, most days past due first, then the largest amount owed (read from the ledger)."""
    rows = await session.execute(
        text(
            "SELECT l.id AS loan_id, l.user_id, l.currency, l.overdue_since, :today - l.overdue_since AS days_past_due,"
            " l.collector_id, c.escalated, c.handed_over_to, c.failed_debits, c.last_decline, c.steps_done,"
            " (SELECT -coalesce(sum(a.balance), 0) FROM accounts a WHERE a.owner_type = 'loan' AND a.owner_id = l.id)"
            " AS owed, (SELECT json_build_object('id', p.id, 'date', p.promised_date, 'amount', p.amount)"
            " FROM payment_promises p WHERE p.loan_id = l.id AND p.status = 'open' ORDER BY p.id DESC LIMIT 1)"
            " AS promise"
            " FROM loans l LEFT JOIN collection_cases c ON c.loan_id = l.id"
            " WHERE l.status = 'overdue' AND (CAST(:collector AS uuid) IS NULL OR l.collector_id = :collector)"
            " ORDER BY l.overdue_since, owed DESC, l.id LIMIT :limit OFFSET :offset"
        ),
        {"today": today, "collector": collector_id, "limit": limit, "offset": offset},
    )
    return [dict(r._mapping) for r in rows]


async def promises(session: AsyncSession, loan_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Every promise made on these loans, newest first (kept, broken, replaced and open)."""
    rows = await session.execute(
        text(
            "SELECT id, loan_id, promised_date, amount, status, staff_id, created_at, resolved_on"
            " FROM payment_promises WHERE loan_id = ANY(:loans) ORDER BY created_at DESC"
        ),
        {"loans": loan_ids},
    )
    return [dict(row._mapping) for row in rows]
