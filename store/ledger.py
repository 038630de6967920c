"""The double-entry ledger on PostgreSQL: posting entries (one at a time or in bulk), two-phase holds, balances.

Every function works inside the caller's transaction (an `AsyncSession`); a raised error means the caller rolls
back and nothing happened. Rules that must hold whatever the code does are also in the schema (migration 0002).

Concurrency: every statement that changes balances first locks the account rows it touches in ascending id order
(`FOR NO KEY UPDATE`, which does not block the foreign-key checks of concurrent posting inserts), so two transfers
over the same accounts queue behind each other and can never deadlock; the CHECK on `accounts` then refuses any
change that would overdraw an account that may not go negative.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.ledger import AccountKind, EntryDraft, Posting, UnbalancedEntry, net_by_account, validate_postings

# House accounts are split in this many sub-accounts so concurrent transfers do not queue on one row (docs/ledger.md).
HOUSE_SHARDS = 16
HOUSE_KINDS = {
    "fee_income": AccountKind.INCOME,
    "fx_position": AccountKind.EQUITY,
    "settlement": AccountKind.ASSET,
    "bonus_expense": AccountKind.EXPENSE,
    "interest_income": AccountKind.INCOME,
}


class LedgerError(Exception):
    code = "ledger_error"


class InsufficientFunds(LedgerError):
    code = "insufficient_funds"


class IdempotencyConflict(LedgerError):
    """The key was used before for different content."""

    code = "conflict"


class AccountMismatch(LedgerError):
    """A posting names an account that does not exist or holds another currency."""

    code = "validation_error"


class HoldStateError(LedgerError):
    code = "conflict"


@dataclass(frozen=True)
class PostedEntry:
    id: int
    replayed: bool


@dataclass(frozen=True)
class BulkResult:
    posted: int
    replayed: int


@dataclass(frozen=True)
class Hold:
    id: int
    account_id: int
    amount: int
    currency: str
    status: str
    posted_amount: int
    resolution_entry_id: int | None


@dataclass(frozen=True)
class AccountBalance:
    id: int
    currency: str
    balance: int
    pending_debit: int

    @property
    def available(self) -> int:
        return self.balance - self.pending_debit


def _is_overdraft(err: DBAPIError) -> bool:
    diag = getattr(err.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == "ck_accounts_spendable"


# --- accounts -------------------------------------------------------------------------------------------------------


async def open_account(
    session: AsyncSession,
    *,
    code: str,
    owner_type: str,
    owner_id: object | None,
    currency: str,
    kind: AccountKind,
    allow_negative: bool,
) -> int:
    """The account with this code, created the first time (so opening twice is harmless)."""
    account_id = await session.scalar(
        text(
            "INSERT INTO accounts (code, owner_type, owner_id, currency, kind, allow_negative) "
            "VALUES (:code, :owner_type, :owner_id, :currency, :kind, :allow_negative) "
            "ON CONFLICT (code) DO NOTHING RETURNING id"
        ),
        {
            "code": code,
            "owner_type": owner_type,
            "owner_id": owner_id,
            "currency": currency,
            "kind": kind.value,
            "allow_negative": allow_negative,
        },
    )
    if account_id is None:
        account_id = await session.scalar(text("SELECT id FROM accounts WHERE code = :code"), {"code": code})
    assert account_id is not None
    return int(account_id)


def house_shard(key: str) -> int:
    """A stable shard for a request, so its retries land on the same sub-account."""
    return zlib.crc32(key.encode()) % HOUSE_SHARDS


async def house_account(session: AsyncSession, purpose: str, currency: str, shard: int = 0) -> int:
    return await open_account(
        session,
        code=f"house:{purpose}:{currency}:{shard}",
        owner_type="company",
        owner_id=None,
        currency=currency,
        kind=HOUSE_KINDS[purpose],
        allow_negative=True,
    )


async def house_balance(session: AsyncSession, purpose: str, currency: str) -> int:
    """A house account's balance is the sum of its shards."""
    total = await session.scalar(
        text("SELECT coalesce(sum(balance), 0) FROM accounts WHERE code LIKE :prefix"),
        {"prefix": f"house:{purpose}:{currency}:%"},
    )
    return int(total or 0)


async def balances(session: AsyncSession, account_ids: Sequence[int]) -> dict[int, AccountBalance]:
    rows = await session.execute(
        text("SELECT id, currency, balance, pending_debit FROM accounts WHERE id = ANY(:ids)"),
        {"ids": list(account_ids)},
    )
    return {r.id: AccountBalance(r.id, r.currency.strip(), r.balance, r.pending_debit) for r in rows}


async def balance_as_of(session: AsyncSession, account_id: int, value_date: date) -> int:
    """The balance from the postings whose value date is on or before `value_date`."""
    total = await session.scalar(
        text("SELECT coalesce(sum(amount), 0) FROM postings WHERE account_id = :id AND value_date <= :d"),
        {"id": account_id, "d": value_date},
    )
    return int(total or 0)


@dataclass(frozen=True)
class Discrepancy:
    account_id: int
    stored: int
    from_postings: int
    what: str  # "balance" | "pending_debit"


async def discrepancies(session: AsyncSession) -> list[Discrepancy]:
    """Accounts whose stored balance differs from the sum of their postings, or whose reserved amount differs from
    their pending holds. Empty in a healthy ledger."""
    rows = await session.execute(
        text(
            """
            SELECT a.id, a.balance AS stored, coalesce(p.total, 0) AS computed, 'balance' AS what
            FROM accounts a LEFT JOIN (SELECT account_id, sum(amount) AS total FROM postings GROUP BY account_id) p
                 ON p.account_id = a.id
            WHERE a.balance <> coalesce(p.total, 0)
            UNION ALL
            SELECT a.id, a.pending_debit, coalesce(h.total, 0), 'pending_debit'
            FROM accounts a LEFT JOIN (SELECT account_id, sum(amount) AS total FROM holds WHERE status = 'pending'
                                       GROUP BY account_id) h ON h.account_id = a.id
            WHERE a.pending_debit <> coalesce(h.total, 0)
            """
        )
    )
    return [Discrepancy(r.id, r.stored, r.computed, r.what) for r in rows]


async def unbalanced_entries(session: AsyncSession) -> int:
    """Entries whose postings do not sum to zero in some currency (the schema prevents them; this proves it)."""
    count = await session.scalar(
        text(
            "SELECT count(*) FROM (SELECT entry_id FROM postings GROUP BY entry_id, currency "
            "HAVING sum(amount) <> 0) bad"
        )
    )
    return int(count or 0)


# --- posting --------------------------------------------------------------------------------------------------------

_POST_ENTRY = text(
    """
    WITH entry AS (
        INSERT INTO journal_entries (idempotency_key, content_hash, kind, value_date, corrects_entry_id, metadata)
        VALUES (:key, :hash, :kind, :value_date, :corrects, CAST(:metadata AS jsonb))
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, value_date
    ), locked AS MATERIALIZED (
        SELECT a.id FROM accounts a
        WHERE a.id = ANY(CAST(:net_ids AS bigint[])) AND EXISTS (SELECT 1 FROM entry)
        ORDER BY a.id FOR NO KEY UPDATE
    ), moved AS (
        UPDATE accounts a SET balance = a.balance + d.delta
        FROM unnest(CAST(:net_ids AS bigint[]), CAST(:net_deltas AS bigint[])) AS d(id, delta)
        WHERE a.id = d.id AND a.id IN (SELECT id FROM locked)
        RETURNING a.id
    ), inserted AS (
        INSERT INTO postings (entry_id, account_id, amount, currency, value_date)
        SELECT entry.id, p.account_id, p.amount, a.currency, entry.value_date
        FROM entry,
             unnest(CAST(:accounts AS bigint[]), CAST(:amounts AS bigint[]), CAST(:currencies AS text[]))
                 AS p(account_id, amount, currency)
             JOIN accounts a ON a.id = p.account_id AND a.currency = p.currency
        RETURNING 1
    )
    SELECT (SELECT id FROM entry) AS entry_id, (SELECT count(*) FROM inserted) AS postings,
           (SELECT count(*) FROM moved) AS moved
    """
)


async def post(session: AsyncSession, draft: EntryDraft) -> PostedEntry:
    """Post one balanced entry, moving balances in the same statement. A second post with the same key returns
    the first entry; with the same key and different content it is refused."""
    validate_postings(draft.postings)
    content_hash = draft.content_hash()
    net = {account: delta for account, delta in net_by_account(draft.postings).items() if delta != 0}
    try:
        row = (
            await session.execute(
                _POST_ENTRY,
                {
                    "key": draft.idempotency_key,
                    "hash": content_hash,
                    "kind": draft.kind,
                    "value_date": draft.value_date,
                    "corrects": draft.corrects_entry_id,
                    "metadata": json.dumps(draft.metadata),
                    "net_ids": list(net),
                    "net_deltas": list(net.values()),
                    "accounts": [p.account_id for p in draft.postings],
                    "amounts": [p.amount for p in draft.postings],
                    "currencies": [p.currency for p in draft.postings],
                },
            )
        ).one()
    except DBAPIError as err:
        if _is_overdraft(err):
            raise InsufficientFunds("the account does not have enough available funds") from err
        raise
    if row.entry_id is None:
        return await _replayed(session, draft.idempotency_key, content_hash)
    if row.postings != len(draft.postings) or row.moved != len(net):
        raise AccountMismatch("a posting names an unknown account or one held in another currency")
    return PostedEntry(int(row.entry_id), replayed=False)


async def _replayed(session: AsyncSession, key: str, content_hash: bytes) -> PostedEntry:
    existing = (
        await session.execute(
            text("SELECT id, content_hash FROM journal_entries WHERE idempotency_key = :key"), {"key": key}
        )
    ).one()
    if bytes(existing.content_hash) != content_hash:
        raise IdempotencyConflict(f"the idempotency key {key!r} was used for a different entry")
    return PostedEntry(int(existing.id), replayed=True)


async def post_many(session: AsyncSession, drafts: Sequence[EntryDraft]) -> BulkResult:
    """Post many entries with COPY and three set-based statements, keeping every rule of `post`: each entry balances,
    keys are taken once (a replayed key with other content refuses the whole batch), accounts and currencies must
    match, and no account that may not go negative is overdrawn (the whole batch is refused if one would be)."""
    if not drafts:
        return BulkResult(0, 0)
    for draft in drafts:
        validate_postings(draft.postings)
    keys = [d.idempotency_key for d in drafts]
    if len(set(keys)) != len(keys):
        raise IdempotencyConflict("a batch names the same idempotency key twice")
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    await session.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS bulk_entries (idx int, key text, hash bytea, kind text, value_date date,"
            " corrects bigint, metadata jsonb) ON COMMIT DELETE ROWS;"
            "CREATE TEMP TABLE IF NOT EXISTS bulk_postings (idx int, account_id bigint, amount bigint, currency text)"
            " ON COMMIT DELETE ROWS;"
            "CREATE TEMP TABLE IF NOT EXISTS bulk_deltas (account_id bigint, delta bigint) ON COMMIT DELETE ROWS;"
            "TRUNCATE bulk_entries, bulk_postings, bulk_deltas"
        )
    )
    async with raw.cursor() as cursor:
        async with cursor.copy(
            "COPY bulk_entries (idx, key, hash, kind, value_date, corrects, metadata) FROM STDIN"
        ) as copy:
            for idx, draft in enumerate(drafts):
                await copy.write_row(
                    (
                        idx,
                        draft.idempotency_key,
                        draft.content_hash(),
                        draft.kind,
                        draft.value_date,
                        draft.corrects_entry_id,
                        json.dumps(draft.metadata),
                    )
                )
        async with cursor.copy("COPY bulk_postings (idx, account_id, amount, currency) FROM STDIN") as copy:
            for idx, draft in enumerate(drafts):
                for posting in draft.postings:
                    await copy.write_row((idx, posting.account_id, posting.amount, posting.currency))
    mismatched = await session.scalar(
        text(
            "SELECT count(*) FROM bulk_postings b LEFT JOIN accounts a ON a.id = b.account_id "
            "WHERE a.currency IS DISTINCT FROM b.currency"
        )
    )
    if mismatched:
        raise AccountMismatch(f"{mismatched} posting(s) name an unknown account or one in another currency")
    counts = (
        await session.execute(
            text(
                """
                WITH ins AS (
                    INSERT INTO journal_entries (idempotency_key, content_hash, kind, value_date, corrects_entry_id,
                                                 metadata)
                    SELECT key, hash, kind, value_date, corrects, metadata FROM bulk_entries ORDER BY idx
                    ON CONFLICT (idempotency_key) DO NOTHING
                    RETURNING id, idempotency_key, value_date
                ), posted AS (
                    INSERT INTO postings (entry_id, account_id, amount, currency, value_date)
                    SELECT ins.id, p.account_id, p.amount, p.currency, ins.value_date
                    FROM ins JOIN bulk_entries e ON e.key = ins.idempotency_key JOIN bulk_postings p ON p.idx = e.idx
                    RETURNING account_id, amount
                ), deltas AS (
                    INSERT INTO bulk_deltas SELECT account_id, sum(amount) FROM posted GROUP BY account_id
                    RETURNING 1
                )
                SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM deltas) AS accounts
                """
            )
        )
    ).one()
    replayed = len(drafts) - int(counts.inserted)
    if replayed:
        conflicting = await session.scalar(
            text(
                "SELECT count(*) FROM bulk_entries b JOIN journal_entries j ON j.idempotency_key = b.key "
                "WHERE j.content_hash <> b.hash"
            )
        )
        if conflicting:
            raise IdempotencyConflict(f"{conflicting} key(s) in the batch were used before for different entries")
    try:
        await session.execute(
            text(
                """
                WITH locked AS MATERIALIZED (
                    SELECT a.id FROM accounts a JOIN bulk_deltas d ON d.account_id = a.id
                    ORDER BY a.id FOR NO KEY UPDATE OF a
                )
                UPDATE accounts a SET balance = a.balance + d.delta
                FROM bulk_deltas d WHERE a.id = d.account_id AND d.delta <> 0 AND a.id IN (SELECT id FROM locked)
                """
            )
        )
    except DBAPIError as err:
        if _is_overdraft(err):
            raise InsufficientFunds("the batch would overdraw an account") from err
        raise
    return BulkResult(posted=int(counts.inserted), replayed=replayed)


# --- holds (two-phase transfers) ------------------------------------------------------------------------------------


async def place_hold(
    session: AsyncSession,
    *,
    key: str,
    account_id: int,
    amount: int,
    currency: str,
    expires_at: datetime | None = None,
    metadata: dict[str, object] | None = None,
) -> Hold:
    """Reserve `amount` on the account: it stays in the balance but can no longer be spent. Placing the same key
    twice returns the first hold."""
    if amount <= 0:
        raise UnbalancedEntry("a hold is for a positive amount")
    try:
        row = (
            await session.execute(
                text(
                    """
                    WITH hold AS (
                        INSERT INTO holds (idempotency_key, account_id, amount, currency, expires_at, metadata)
                        SELECT :key, :account, :amount, :currency, :expires_at, CAST(:metadata AS jsonb)
                        FROM accounts WHERE id = :account AND currency = :currency
                        ON CONFLICT (idempotency_key) DO NOTHING
                        RETURNING id
                    ), reserved AS (
                        UPDATE accounts SET pending_debit = pending_debit + :amount
                        WHERE id = :account AND EXISTS (SELECT 1 FROM hold) RETURNING id
                    )
                    SELECT (SELECT id FROM hold) AS hold_id, (SELECT count(*) FROM reserved) AS reserved
                    """
                ),
                {
                    "key": key,
                    "account": account_id,
                    "amount": amount,
                    "currency": currency,
                    "expires_at": expires_at,
                    "metadata": json.dumps(metadata or {}),
                },
            )
        ).one()
    except DBAPIError as err:
        if _is_overdraft(err):
            raise InsufficientFunds("the account does not have enough available funds") from err
        raise
    existing = await _hold_by_key(session, key)
    if existing is None:
        raise AccountMismatch("the hold names an unknown account or one in another currency")
    if row.hold_id is None and (existing.account_id, existing.amount, existing.currency) != (
        account_id,
        amount,
        currency,
    ):
        raise IdempotencyConflict(f"the idempotency key {key!r} was used for a different hold")
    return existing


async def _hold_by_key(session: AsyncSession, key: str) -> Hold | None:
    row = (
        await session.execute(
            text(
                "SELECT id, account_id, amount, currency, status, posted_amount, resolution_entry_id "
                "FROM holds WHERE idempotency_key = :key"
            ),
            {"key": key},
        )
    ).one_or_none()
    return None if row is None else _hold(row)


def _hold(r: Any) -> Hold:
    return Hold(r.id, r.account_id, r.amount, r.currency.strip(), r.status, r.posted_amount, r.resolution_entry_id)


async def _lock_hold(session: AsyncSession, hold_id: int) -> Hold:
    row = (
        await session.execute(
            text(
                "SELECT id, account_id, amount, currency, status, posted_amount, resolution_entry_id "
                "FROM holds WHERE id = :id FOR UPDATE"
            ),
            {"id": hold_id},
        )
    ).one_or_none()
    if row is None:
        raise HoldStateError(f"hold {hold_id} does not exist")
    return _hold(row)


async def post_hold(
    session: AsyncSession,
    hold_id: int,
    *,
    amount: int,
    counter_account_id: int,
    key: str,
    kind: str,
    value_date: date,
    metadata: dict[str, object] | None = None,
) -> Hold:
    """Settle a hold: `amount` (up to the hold) leaves the held account for `counter_account_id`; the rest of the
    reservation is released. Posting a posted hold again with the same amount returns it unchanged."""
    hold = await _lock_hold(session, hold_id)
    if hold.status == "posted" and hold.posted_amount == amount:
        return hold
    if hold.status != "pending":
        raise HoldStateError(f"hold {hold_id} is {hold.status}")
    if not 0 < amount <= hold.amount:
        raise HoldStateError("a hold is posted for a positive amount no larger than it holds")
    await _release(session, hold)
    entry = await post(
        session,
        EntryDraft(
            key,
            kind,
            value_date,
            (Posting(hold.account_id, -amount, hold.currency), Posting(counter_account_id, amount, hold.currency)),
            metadata={"hold_id": hold_id, **(metadata or {})},
        ),
    )
    await session.execute(
        text(
            "UPDATE holds SET status = 'posted', posted_amount = :amount, resolved_at = now(), "
            "resolution_entry_id = :entry WHERE id = :id"
        ),
        {"amount": amount, "entry": entry.id, "id": hold_id},
    )
    return Hold(hold.id, hold.account_id, hold.amount, hold.currency, "posted", amount, entry.id)


async def void_hold(session: AsyncSession, hold_id: int, *, status: str = "voided") -> Hold:
    """Release a hold without moving money (`status="expired"` when its time ran out). Idempotent."""
    hold = await _lock_hold(session, hold_id)
    if hold.status in ("voided", "expired"):
        return hold
    if hold.status != "pending":
        raise HoldStateError(f"hold {hold_id} is {hold.status}")
    await _release(session, hold)
    await session.execute(
        text("UPDATE holds SET status = :status, resolved_at = now() WHERE id = :id"),
        {"status": status, "id": hold_id},
    )
    return Hold(hold.id, hold.account_id, hold.amount, hold.currency, status, 0, None)


async def _release(session: AsyncSession, hold: Hold) -> None:
    await session.execute(
        text("UPDATE accounts SET pending_debit = pending_debit - :amount WHERE id = :id"),
        {"amount": hold.amount, "id": hold.account_id},
    )


async def expire_holds(session: AsyncSession, now: datetime) -> int:
    """Void every pending hold whose time has passed; returns how many."""
    ids = (
        await session.scalars(
            text("SELECT id FROM holds WHERE status = 'pending' AND expires_at <= :now ORDER BY id"), {"now": now}
        )
    ).all()
    for hold_id in ids:
        await void_hold(session, hold_id, status="expired")
    return len(ids)
