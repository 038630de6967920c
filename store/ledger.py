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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.accounts import HouseAccount
from domain.ledger import AccountKind, EntryDraft, Posting, UnbalancedEntry
from store import cycle_collection

# House accounts are split in this many sub-accounts so concurrent transfers do not queue on one row (docs/ledger.md).
HOUSE_SHARDS = 16


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


# Every function works on either an ORM session or a Core connection: callers with ORM work to do in the same
# transaction pass their session; the hot paths (bench, bulk jobs) pass a connection from `engine.begin()`, which
# costs about half as much per transaction as a session on this stack (docs/ledger.md).
Db = AsyncSession | AsyncConnection
# `post` and `post_many` also take a bare psycopg connection in a transaction: what they do is then measured alone
# (bench/ledger.py), with no SQLAlchemy layer between them and the server.
Poster = Db | psycopg.AsyncConnection[Any]


async def driver_of(session: Poster) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under the current transaction."""
    if isinstance(session, psycopg.AsyncConnection):
        return session
    connection = await session.connection() if isinstance(session, AsyncSession) else session
    driver = (await connection.get_raw_connection()).driver_connection
    assert isinstance(driver, psycopg.AsyncConnection)  # the engine is psycopg's: its raw connection always is
    return driver


def _is_overdraft(err: DBAPIError) -> bool:
    diag = getattr(err.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == "ck_accounts_spendable"


# --- accounts -------------------------------------------------------------------------------------------------------


async def open_account(
    session: Db,
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


async def open_owner_accounts(
    session: Db,
    *,
    codes: Sequence[str],
    owner_type: str,
    owner_id: object,
    currency: str,
    kind: AccountKind,
    allow_negative: bool,
) -> dict[str, int]:
    """Several accounts of one owner (a loan's receivables), each created the first time: one insert and one read
    instead of a round trip per account, in code order like the house accounts."""
    ordered = sorted(codes)
    await session.execute(
        text(
            "INSERT INTO accounts (code, owner_type, owner_id, currency, kind, allow_negative)"
            " SELECT code, :owner_type, :owner_id, :currency, :kind, :allow_negative"
            " FROM unnest(CAST(:codes AS text[])) AS t(code) ORDER BY code"
            " ON CONFLICT (code) DO NOTHING"
        ),
        {
            "owner_type": owner_type,
            "owner_id": owner_id,
            "currency": currency,
            "kind": kind.value,
            "allow_negative": allow_negative,
            "codes": ordered,
        },
    )
    return await _ids_by_code(session, ordered)


async def house_accounts(
    session: Db, purposes: Sequence[HouseAccount], currency: str, shard: int = 0
) -> dict[HouseAccount, int]:
    """Several house accounts of a shard in one read (opening the currency's house accounts the first time)."""
    codes = {purpose: purpose.code(currency, shard) for purpose in purposes}
    found = await _ids_by_code(session, list(codes.values()))
    if len(found) < len(set(codes.values())):
        await _open_house_accounts(session, currency)
        found = await _ids_by_code(session, list(codes.values()))
    return {purpose: found[code] for purpose, code in codes.items()}


async def _ids_by_code(session: Db, codes: Sequence[str]) -> dict[str, int]:
    rows = await session.execute(
        text("SELECT code, id FROM accounts WHERE code = ANY(CAST(:codes AS text[]))"), {"codes": list(codes)}
    )
    return {str(code): int(account_id) for code, account_id in rows}


async def house_account(session: Db, purpose: HouseAccount, currency: str, shard: int = 0) -> int:
    return (await house_accounts(session, [purpose], currency, shard))[purpose]


async def _open_house_accounts(session: Db, currency: str) -> None:
    """Every house account of the currency at once, in code order. Opened one at a time inside bigger
    transactions, two first loans could each insert a shard the other then waits for (a deadlock, seen under
    load); inserting the same rows in the same order, the second waits for the first and finds them there."""
    rows = sorted((p.code(currency, shard), p.kind.value) for p in HouseAccount for shard in range(HOUSE_SHARDS))
    await session.execute(
        text(
            "INSERT INTO accounts (code, owner_type, owner_id, currency, kind, allow_negative)"
            " SELECT code, 'company', NULL, :currency, kind, true"
            " FROM unnest(CAST(:codes AS text[]), CAST(:kinds AS text[])) AS t(code, kind) ORDER BY code"
            " ON CONFLICT (code) DO NOTHING"
        ),
        {"currency": currency, "codes": [c for c, _ in rows], "kinds": [k for _, k in rows]},
    )


async def house_balance(session: Db, purpose: HouseAccount, currency: str) -> int:
    """A house account's balance is the sum of its shards."""
    total = await session.scalar(
        text("SELECT coalesce(sum(balance), 0) FROM accounts WHERE code LIKE :prefix"),
        {"prefix": f"{purpose.code_prefix}:{currency}:%"},
    )
    return int(total or 0)


async def balances(session: Db, account_ids: Sequence[int]) -> dict[int, AccountBalance]:
    rows = await session.execute(
        text("SELECT id, currency, balance, pending_debit FROM accounts WHERE id = ANY(:ids)"),
        {"ids": list(account_ids)},
    )
    return {r.id: AccountBalance(r.id, r.currency.strip(), r.balance, r.pending_debit) for r in rows}


async def spendable(session: Db, account_id: int) -> int:
    """Balance less holds, with the account locked until the transaction ends: for accounts that may go negative,
    where the schema's CHECK does not stop spending what is not there, the caller checks against this."""
    found = await session.scalar(
        text("SELECT balance - pending_debit FROM accounts WHERE id = :id FOR NO KEY UPDATE"), {"id": account_id}
    )
    return int(found or 0)


async def balance_as_of(session: Db, account_id: int, value_date: date) -> int:
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
    what: str  # "balance" | "pending_debit" | "orphan_posting"


async def discrepancies(session: Db) -> list[Discrepancy]:
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
            UNION ALL
            SELECT p.account_id, p.entry_id, 0, 'orphan_posting'
            FROM postings p
            WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = p.account_id)
               OR NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.id = p.entry_id)
            """
        )
    )
    return [Discrepancy(r.id, r.stored, r.computed, r.what) for r in rows]


async def unbalanced_entries(session: Db) -> int:
    """Entries whose postings do not sum to zero in some currency (the schema prevents them; this proves it)."""
    count = await session.scalar(
        text(
            "SELECT count(*) FROM (SELECT entry_id FROM postings GROUP BY entry_id, currency "
            "HAVING sum(amount) <> 0) bad"
        )
    )
    return int(count or 0)


# --- posting --------------------------------------------------------------------------------------------------------

# One entry, one statement: the function claims the key, locks the accounts in id order, moves balances and adds
# the postings (migration 0013). Net changes per account are summed by the database; the currencies travel as one
# text. No content hash is sent: a replay compares the stored postings with the draft (`_replayed`).
_POST_ONE = "SELECT ledger_post_one(%s, %s, %s, %s, %s::jsonb, %s::bigint[], %s::bigint[], %s)"
ACCOUNT_MISMATCH_SQLSTATE = "LF001"


def _posting_columns(draft: EntryDraft) -> tuple[list[int], list[int], str]:
    """Accounts, amounts, and the currencies as one text: "USD" when all postings share it."""
    postings = draft.postings
    first = postings[0].currency
    same = all(p.currency == first for p in postings)
    return (
        [p.account_id for p in postings],
        [p.amount for p in postings],
        first if same else ",".join(p.currency for p in postings),
    )


def _post_arguments(draft: EntryDraft) -> tuple[Any, ...]:
    return (
        draft.idempotency_key,
        draft.kind,
        draft.value_date,
        draft.corrects_entry_id,
        json.dumps(draft.metadata) if draft.metadata else "{}",
        *_posting_columns(draft),
    )


async def post(session: Poster, draft: EntryDraft) -> PostedEntry:
    """Post one balanced entry inside the caller's transaction, moving balances in the same statement. A second
    post with the same key returns the first entry; with the same key and different content it is refused. (A
    posting that is the whole transaction costs one round trip through `PostingPool.post` instead.)"""
    # The hot path talks to the driver directly: SQLAlchemy's statement machinery cost more than the database work
    # of a transfer (docs/ledger.md has the figures).
    return await post_on(await driver_of(session), draft)


async def post_on(driver: psycopg.AsyncConnection[Any], draft: EntryDraft) -> PostedEntry:
    """`post` on a psycopg connection: in its transaction, or alone when the connection is in autocommit."""
    try:
        cursor = await driver.execute(_POST_ONE, _post_arguments(draft))
        row = await cursor.fetchone()
    except psycopg.errors.CheckViolation as err:
        if err.diag.constraint_name == "ck_accounts_spendable":
            raise InsufficientFunds("the account does not have enough available funds") from err
        raise
    except psycopg.Error as err:
        if err.sqlstate == ACCOUNT_MISMATCH_SQLSTATE:
            raise AccountMismatch("a posting names an unknown account or one held in another currency") from err
        raise
    entry_id = row[0] if row else None
    if entry_id is None:
        return await _replayed(driver, draft)
    return PostedEntry(int(entry_id), replayed=False)


_POST_BATCH = "SELECT entry_id, failure FROM ledger_post_batch(%s::jsonb)"
_BATCH_FAILURES: dict[str, Callable[[], LedgerError]] = {
    "overdraft": lambda: InsufficientFunds("the account does not have enough available funds"),
    "account_mismatch": lambda: AccountMismatch("a posting names an unknown account or one held in another currency"),
}


async def post_batch_on(
    driver: psycopg.AsyncConnection[Any], drafts: Sequence[EntryDraft]
) -> list[PostedEntry | LedgerError]:
    """Entries that each stand alone, sent in one statement on an autocommit connection: one commit for all, and
    for each entry what `post_on` would have answered (its refusal returned, not raised, so one overdraft does not
    refuse its neighbours). A failure of the statement itself is raised: the caller posts those entries one by
    one."""
    items = [
        [
            d.idempotency_key,
            d.kind,
            d.value_date.isoformat(),
            d.corrects_entry_id,
            d.metadata or {},
            *_posting_columns(d),
        ]
        for d in drafts
    ]
    cursor = await driver.execute(_POST_BATCH, (json.dumps(items),))
    rows = await cursor.fetchall()
    answers: list[PostedEntry | LedgerError] = []
    for draft, (entry_id, failure) in zip(drafts, rows, strict=True):
        if failure is not None:
            answers.append(_BATCH_FAILURES[failure]())
        elif entry_id is not None:
            answers.append(PostedEntry(int(entry_id), replayed=False))
        else:
            try:
                answers.append(await _replayed(driver, draft))
            except IdempotencyConflict as conflict:
                answers.append(conflict)
    return answers


async def entry_metadata(session: Db, key: str) -> tuple[int, dict[str, Any]] | None:
    """The id and metadata of the entry posted under `key`, if any."""
    row = (
        await session.execute(
            text("SELECT id, metadata FROM journal_entries WHERE idempotency_key = :key"), {"key": key}
        )
    ).one_or_none()
    return None if row is None else (int(row.id), dict(row.metadata))


async def _replayed(driver: psycopg.AsyncConnection[Any], draft: EntryDraft) -> PostedEntry:
    """The key was taken before: the same content answers the first entry, other content is a conflict. (Rare, so
    the draft is hashed only here.)"""
    key = draft.idempotency_key
    cursor = await driver.execute("SELECT id, content_hash FROM journal_entries WHERE idempotency_key = %s", (key,))
    existing = await cursor.fetchone()
    assert existing is not None
    stored = await _stored_hashes(driver, {key: (int(existing[0]), existing[1])})
    if stored[key] != draft.content_hash():
        raise IdempotencyConflict(f"the idempotency key {key!r} was used for a different entry")
    return PostedEntry(int(existing[0]), replayed=True)


async def _stored_hashes(
    driver: psycopg.AsyncConnection[Any], found: dict[str, tuple[int, bytes | None]]
) -> dict[str, bytes]:
    """The content hash of each entry found (key -> (id, stored hash)). The bulk path stores none (hashing half a
    million entries cost a tenth of its time, for a comparison only a replay needs): theirs is computed here from
    the entry's own rows, exactly as `EntryDraft.content_hash` computes it."""
    hashes = {key: bytes(stored) for key, (_, stored) in found.items() if stored is not None}
    missing = {entry_id: key for key, (entry_id, stored) in found.items() if stored is None}
    if missing:
        cursor = await driver.execute(
            "SELECT j.id, j.kind, j.value_date, j.corrects_entry_id, p.account_id, p.amount, p.currency"
            " FROM journal_entries j JOIN postings p ON p.entry_id = j.id WHERE j.id = ANY(%s) ORDER BY j.id",
            (list(missing),),
        )
        entries: dict[int, tuple[str, date, int | None, list[Posting]]] = {}
        for entry_id, kind, value_date, corrects, account_id, amount, currency in await cursor.fetchall():
            entries.setdefault(entry_id, (kind, value_date, corrects, []))[3].append(
                Posting(account_id, amount, currency.strip())
            )
        for entry_id, (kind, value_date, corrects, postings) in entries.items():
            draft = EntryDraft(missing[entry_id], kind, value_date, tuple(postings), corrects_entry_id=corrects)
            hashes[missing[entry_id]] = draft.content_hash()
    return hashes


async def post_many(session: Poster, drafts: Sequence[EntryDraft]) -> BulkResult:
    """Post many entries with COPY straight into the ledger tables and one balance UPDATE, keeping every rule of
    `post`: each entry balances (checked when the draft is built and by the schema's statement trigger), keys are
    taken once (a replayed key is skipped; one with other content refuses the whole batch), every account exists and
    holds the posting's currency, and no account that may not go negative is overdrawn (the whole batch is refused).

    The common case (no key used before) costs no lookup: the batch goes in under a savepoint, and only if the unique
    key refuses it are replays sorted out and the rest posted. A concurrent batch racing for the same keys makes this
    one fail on the unique key; retrying it then skips what landed."""
    if not drafts:
        return BulkResult(0, 0)
    keys = {draft.idempotency_key: draft for draft in drafts}
    if len(keys) < len(drafts):
        raise IdempotencyConflict("a batch names the same idempotency key twice")
    raw = await driver_of(session)
    try:
        async with raw.transaction():  # a savepoint inside the caller's transaction
            await _copy_batch(raw, drafts)
        return BulkResult(posted=len(drafts), replayed=0)
    except psycopg.errors.UniqueViolation:
        pass  # some keys were used before
    cursor = await raw.execute(
        "SELECT j.idempotency_key, j.id, j.content_hash FROM unnest(%s::text[]) AS k(key)"
        " JOIN journal_entries j ON j.idempotency_key = k.key",
        (list(keys),),
    )
    stored = await _stored_hashes(raw, {key: (entry_id, found) for key, entry_id, found in await cursor.fetchall()})
    for key, stored_hash in stored.items():
        if stored_hash != keys[key].content_hash():
            raise IdempotencyConflict(f"the idempotency key {key!r} was used before for a different entry")
    fresh = [d for d in drafts if d.idempotency_key not in stored]
    if fresh:
        await _copy_batch(raw, fresh)
    return BulkResult(posted=len(fresh), replayed=len(stored))


async def _copy_batch(raw: psycopg.AsyncConnection[Any], drafts: Sequence[EntryDraft]) -> None:
    # One pass over the postings for the balance changes and the (account, currency) pairs to check; the pairs are
    # few (a batch credits many accounts from a few), so checking them costs nothing per posting.
    deltas: dict[int, int] = {}
    pairs: set[tuple[int, str]] = set()
    with cycle_collection.paused():
        for draft in drafts:
            for posting in draft.postings:
                deltas[posting.account_id] = deltas.get(posting.account_id, 0) + posting.amount
                pairs.add((posting.account_id, posting.currency))
    cursor = await raw.execute("SELECT id, currency FROM accounts WHERE id = ANY(%s)", (list(deltas),))
    currencies = {account_id: currency.strip() for account_id, currency in await cursor.fetchall()}
    for account_id, currency in pairs:
        if currencies.get(account_id) != currency:
            raise AccountMismatch(f"account {account_id} is unknown or not held in {currency}")
    # Entry ids are reserved up front so postings can name their entry in the same COPY stream.
    cursor = await raw.execute(
        "SELECT array_agg(nextval('journal_entries_id_seq')) FROM generate_series(1, %s)", (len(drafts),)
    )
    row = await cursor.fetchone()
    assert row is not None
    entry_ids: list[int] = row[0]
    # Metadata is copied only when some entry has any (the column defaults to an empty object).
    with_metadata = any(draft.metadata for draft in drafts)
    entry_columns = "id, idempotency_key, kind, value_date, corrects_entry_id" + (", metadata" if with_metadata else "")
    # COPY text, written in chunks: far cheaper than a write_row per row. Keys, kinds and metadata are escaped;
    # everything else is an integer, a currency code or a date.
    days: dict[date, str] = {}
    kinds: dict[str, str] = {}
    step = 10_000  # drafts per chunk: the server works on one chunk while the next is formatted
    async with raw.cursor() as copy_cursor:
        async with copy_cursor.copy(f"COPY journal_entries ({entry_columns}) FROM STDIN") as copy:
            for start in range(0, len(drafts), step):
                lines = []
                with cycle_collection.paused():
                    for entry_id, draft in zip(
                        entry_ids[start : start + step], drafts[start : start + step], strict=True
                    ):
                        day = days.get(draft.value_date) or days.setdefault(
                            draft.value_date, draft.value_date.isoformat()
                        )
                        kind = kinds.get(draft.kind) or kinds.setdefault(draft.kind, _copy_text(draft.kind))
                        corrects = "\\N" if draft.corrects_entry_id is None else str(draft.corrects_entry_id)
                        line = f"{entry_id}\t{_copy_text(draft.idempotency_key)}\t{kind}\t{day}\t{corrects}"
                        if with_metadata:
                            line += "\t" + _copy_text(json.dumps(draft.metadata))
                        lines.append(line + "\n")
                await copy.write("".join(lines))
        async with copy_cursor.copy(
            "COPY postings (entry_id, account_id, amount, currency, value_date) FROM STDIN"
        ) as copy:
            for start in range(0, len(drafts), step):
                with cycle_collection.paused():
                    chunk = "".join(
                        f"{entry_id}\t{p.account_id}\t{p.amount}\t{p.currency}\t{days[draft.value_date]}\n"
                        for entry_id, draft in zip(
                            entry_ids[start : start + step], drafts[start : start + step], strict=True
                        )
                        for p in draft.postings
                    )
                await copy.write(chunk)
    moving = {account: delta for account, delta in deltas.items() if delta != 0}
    try:
        await raw.execute(
            """
            WITH locked AS MATERIALIZED (
                SELECT id FROM accounts WHERE id = ANY(%(ids)s::bigint[]) ORDER BY id FOR NO KEY UPDATE
            )
            UPDATE accounts a SET balance = a.balance + d.delta
            FROM unnest(%(ids)s::bigint[], %(deltas)s::bigint[]) AS d(id, delta)
            WHERE a.id = d.id AND a.id IN (SELECT id FROM locked)
            """,
            {"ids": list(moving), "deltas": list(moving.values())},
        )
    except psycopg.errors.CheckViolation as err:
        if err.diag.constraint_name == "ck_accounts_spendable":
            raise InsufficientFunds("the batch would overdraw an account") from err
        raise


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    """A value for COPY's text format: backslash, tab, newline and carriage return escaped."""
    return value.translate(_COPY_ESCAPES)


# --- holds (two-phase transfers) ------------------------------------------------------------------------------------


async def place_hold(
    session: Db,
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


async def _hold_by_key(session: Db, key: str) -> Hold | None:
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


async def _lock_hold(session: Db, hold_id: int) -> Hold:
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
    session: Db,
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


async def void_hold(session: Db, hold_id: int, *, status: str = "voided") -> Hold:
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


async def _release(session: Db, hold: Hold) -> None:
    await session.execute(
        text("UPDATE accounts SET pending_debit = pending_debit - :amount WHERE id = :id"),
        {"amount": hold.amount, "id": hold.account_id},
    )


async def expire_holds(session: Db, now: datetime) -> int:
    """Void every pending hold whose time has passed; returns how many."""
    ids = (
        await session.scalars(
            text("SELECT id FROM holds WHERE status = 'pending' AND expires_at <= :now ORDER BY id"), {"now": now}
        )
    ).all()
    for hold_id in ids:
        await void_hold(session, hold_id, status="expired")
    return len(ids)
