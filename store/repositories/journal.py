"""Reading the ledger as an accountant does: one entry with its postings, the journal filtered by the accounts it
touched, and an account's statement with its running balance. Reads only; postings are written by `store.ledger`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class PostingLine:
    account_id: int
    account: str  # the account's code: loan:<id>:<component>, wallet:<id>, house:<purpose>:<currency>:<shard>
    account_kind: str
    amount: int
    currency: str


@dataclass(frozen=True)
class Entry:
    id: int
    key: str
    kind: str
    value_date: date
    recorded_at: datetime
    corrects_entry_id: int | None
    metadata: dict[str, Any]
    postings: list[PostingLine]


@dataclass(frozen=True)
class StatementLine:
    posting_id: int
    entry_id: int
    key: str  # the entry's idempotency key: transfer:<id>, topup-<operation>, bonus:<batch>:<wallet>, ...
    kind: str
    value_date: date
    recorded_at: datetime
    amount: int
    balance_after: int
    metadata: dict[str, Any]


async def _postings(session: AsyncSession, entry_ids: list[int]) -> dict[int, list[PostingLine]]:
    if not entry_ids:
        return {}
    rows = await session.execute(
        text(
            "SELECT p.entry_id, p.account_id, a.code, a.kind, p.amount, p.currency FROM postings p"
            " JOIN accounts a ON a.id = p.account_id WHERE p.entry_id = ANY(:ids) ORDER BY p.entry_id, p.id"
        ),
        {"ids": entry_ids},
    )
    found: dict[int, list[PostingLine]] = {}
    for r in rows:
        found.setdefault(r.entry_id, []).append(
            PostingLine(r.account_id, r.code, r.kind, int(r.amount), r.currency.strip())
        )
    return found


_ENTRY_COLUMNS = "e.id, e.idempotency_key, e.kind, e.value_date, e.recorded_at, e.corrects_entry_id, e.metadata"


def _entry(row: Any, postings: dict[int, list[PostingLine]]) -> Entry:
    return Entry(
        id=row.id,
        key=row.idempotency_key,
        kind=row.kind,
        value_date=row.value_date,
        recorded_at=row.recorded_at,
        corrects_entry_id=row.corrects_entry_id,
        metadata=dict(row.metadata or {}),
        postings=postings.get(row.id, []),
    )


async def entry(session: AsyncSession, entry_id: int) -> Entry | None:
    row = (
        await session.execute(
            text(f"SELECT {_ENTRY_COLUMNS} FROM journal_entries e WHERE e.id = :id"), {"id": entry_id}
        )
    ).one_or_none()
    return None if row is None else _entry(row, await _postings(session, [entry_id]))


async def entry_by_key(session: AsyncSession, key: str) -> Entry | None:
    row = (
        await session.execute(
            text(f"SELECT {_ENTRY_COLUMNS} FROM journal_entries e WHERE e.idempotency_key = :key"), {"key": key}
        )
    ).one_or_none()
    return None if row is None else _entry(row, await _postings(session, [row.id]))


async def account_ids(session: AsyncSession, *, code_prefix: str | None = None, code: str | None = None) -> list[int]:
    """Accounts by code (`wallet:<id>`) or code prefix (`loan:<id>:` holds every account of a loan)."""
    if code is not None:
        rows = await session.execute(text("SELECT id FROM accounts WHERE code = :code"), {"code": code})
    else:
        rows = await session.execute(
            text("SELECT id FROM accounts WHERE code LIKE :prefix ORDER BY id"),
            {"prefix": (code_prefix or "").replace("%", r"\%").replace("_", r"\_") + "%"},
        )
    return [int(r[0]) for r in rows]


async def entries(
    session: AsyncSession,
    *,
    accounts: list[int] | None,
    kind: str | None,
    value_from: date | None,
    value_to: date | None,
    starting_after: int | None,
    limit: int,
) -> list[Entry]:
    """Entries in id order (after `starting_after`), touching any of `accounts` when given, with their postings."""
    conditions, params = ["TRUE"], {"limit": limit, "after": starting_after or 0}
    if accounts is not None:
        conditions.append("e.id IN (SELECT entry_id FROM postings WHERE account_id = ANY(:accounts))")
        params["accounts"] = accounts
    if kind is not None:
        conditions.append("e.kind = :kind")
        params["kind"] = kind
    if value_from is not None:
        conditions.append("e.value_date >= :from")
        params["from"] = value_from
    if value_to is not None:
        conditions.append("e.value_date <= :to")
        params["to"] = value_to
    rows = (
        await session.execute(
            text(
                f"SELECT {_ENTRY_COLUMNS} FROM journal_entries e WHERE e.id > :after AND {' AND '.join(conditions)}"
                " ORDER BY e.id LIMIT :limit"
            ),
            params,
        )
    ).all()
    postings = await _postings(session, [r.id for r in rows])
    return [_entry(r, postings) for r in rows]


async def statement(
    session: AsyncSession, account_id: int, *, starting_after: int | None, limit: int
) -> list[StatementLine]:
    """An account's postings in order with the balance after each (a credit to a wallet is positive): the balance
    before the page is summed by the database, the page's running balance by a window over it."""
    rows = await session.execute(
        text(
            """
            WITH before AS (
                SELECT coalesce(sum(amount), 0) AS balance FROM postings
                WHERE account_id = :account AND id <= :after
            ), page AS (
                SELECT p.id, p.entry_id, p.amount, p.value_date FROM postings p
                WHERE p.account_id = :account AND p.id > :after ORDER BY p.id LIMIT :limit
            )
            SELECT page.id, page.entry_id, e.idempotency_key, e.kind, page.value_date, e.recorded_at, page.amount,
                   e.metadata,
                   (SELECT balance FROM before) + sum(page.amount) OVER (ORDER BY page.id) AS balance_after
            FROM page JOIN journal_entries e ON e.id = page.entry_id ORDER BY page.id
            """
        ),
        {"account": account_id, "after": starting_after or 0, "limit": limit},
    )
    return [
        StatementLine(
            r.id,
            r.entry_id,
            r.idempotency_key,
            r.kind,
            r.value_date,
            r.recorded_at,
            int(r.amount),
            int(r.balance_after),
            dict(r.metadata or {}),
        )
        for r in rows
    ]
