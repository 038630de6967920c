"""The ledger keeps every entry balanced, every key used once, and no wallet below zero."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from config.task_queues import Family
from contracts.wallets import HoldSweep
from domain.ledger import EntryDraft, Posting, UnbalancedEntry, transfer, validate_postings
from store import ledger
from store.posting_pool import PostingPool
from tests.conftest import Stack
from tests.ledger_fixtures import source, wallet
from workers.schedules import HOLD_EXPIRY_SCHEDULE_ID, ensure_hold_expiry_schedule
from workflows.hold_expiry import HoldExpiryWorkflow

TODAY = date(2026, 11, 22)


async def test_a_transfer_moves_balances_and_a_replay_changes_nothing(clean: Stack) -> None:
    async with clean.sessions.begin() as s:
        bank, alice = await source(s), await wallet(s, "alice")
        first = await ledger.post(s, transfer("k1", "topup", TODAY, bank, alice, 1500, "USD"))
        again = await ledger.post(s, transfer("k1", "topup", TODAY, bank, alice, 1500, "USD"))
        assert again == ledger.PostedEntry(first.id, replayed=True)
        held = await ledger.balances(s, [bank, alice])
    assert (held[bank].balance, held[alice].balance) == (-1500, 1500)


async def test_the_same_key_with_other_content_is_a_conflict(clean: Stack) -> None:
    async with clean.sessions.begin() as s:
        bank, alice = await source(s), await wallet(s, "alice")
        await ledger.post(s, transfer("k1", "topup", TODAY, bank, alice, 1500, "USD"))
        with pytest.raises(ledger.IdempotencyConflict):
            await ledger.post(s, transfer("k1", "topup", TODAY, bank, alice, 1600, "USD"))


async def test_a_wallet_cannot_be_overdrawn_and_the_refusal_changes_nothing(clean: Stack) -> None:
    async with clean.sessions.begin() as s:
        bank, alice, bob = await source(s), await wallet(s, "alice"), await wallet(s, "bob")
        await ledger.post(s, transfer("fund", "topup", TODAY, bank, alice, 1000, "USD"))
    with pytest.raises(ledger.InsufficientFunds):
        async with clean.sessions.begin() as s:
            await ledger.post(s, transfer("too-much", "p2p", TODAY, alice, bob, 1001, "USD"))
    async with clean.sessions() as s:
        held = await ledger.balances(s, [alice, bob])
        assert (held[alice].balance, held[bob].balance) == (1000, 0)
        # The refused key was not used up: the same request can succeed once there is money.
        assert await s.scalar(text("SELECT count(*) FROM journal_entries WHERE idempotency_key = 'too-much'")) == 0


async def test_unbalanced_entries_are_refused_by_the_code_and_by_the_schema(clean: Stack) -> None:
    with pytest.raises(UnbalancedEntry):
        validate_postings((Posting(1, -100, "USD"), Posting(2, 99, "USD")))
    async with clean.sessions() as s:
        bank, alice = await source(s), await wallet(s, "alice")
        entry = await s.scalar(
            text(
                "INSERT INTO journal_entries (idempotency_key, content_hash, kind, value_date) "
                "VALUES ('raw', '\\x00', 'bad', '2026-11-22') RETURNING id"
            )
        )
        with pytest.raises(DBAPIError, match="does not balance"):
            await s.execute(
                text(
                    "INSERT INTO postings (entry_id, account_id, amount, currency, value_date) VALUES "
                    f"({entry}, {bank}, -100, 'USD', '2026-11-22'), ({entry}, {alice}, 99, 'USD', '2026-11-22')"
                )
            )


async def test_postings_and_entries_cannot_be_changed(clean: Stack) -> None:
    async with clean.sessions.begin() as s:
        bank, alice = await source(s), await wallet(s, "alice")
        await ledger.post(s, transfer("k", "topup", TODAY, bank, alice, 10, "USD"))
    for statement in ("UPDATE postings SET amount = 1", "DELETE FROM postings", "DELETE FROM journal_entries"):
        async with clean.sessions() as s:
            with pytest.raises(DBAPIError, match="append-only"):
                await s.execute(text(statement))


async def test_a_posting_in_the_wrong_currency_is_refused(clean: Stack) -> None:
    async with clean.sessions() as s:
        bank, alice = await source(s, "EUR"), await wallet(s, "alice", "EUR")
        with pytest.raises(ledger.AccountMismatch):
            await ledger.post(s, transfer("k", "topup", TODAY, bank, alice, 10, "USD"))


async def test_balance_as_of_a_value_date_comes_from_the_postings(clean: Stack) -> None:
    async with clean.sessions.begin() as s:
        bank, alice = await source(s), await wallet(s, "alice")
        await ledger.post(s, transfer("d1", "topup", TODAY - timedelta(days=2), bank, alice, 100, "USD"))
        await ledger.post(s, transfer("d2", "topup", TODAY, bank, alice, 50, "USD"))
        assert await ledger.balance_as_of(s, alice, TODAY - timedelta(days=3)) == 0
        assert await ledger.balance_as_of(s, alice, TODAY - timedelta(days=1)) == 100
        assert await ledger.balance_as_of(s, alice, TODAY) == 150
        assert await ledger.discrepancies(s) == []


async def test_a_hold_reserves_funds_then_posts_part_and_releases_the_rest(clean: Stack) -> None:
    async with clean.sessions.begin() as s:
        bank, alice, payouts = await source(s), await wallet(s, "alice"), await source(s, name="payouts")
        await ledger.post(s, transfer("fund", "topup", TODAY, bank, alice, 1000, "USD"))
        hold = await ledger.place_hold(s, key="h1", account_id=alice, amount=700, currency="USD")
        assert (await ledger.balances(s, [alice]))[alice].available == 300
        with pytest.raises(ledger.InsufficientFunds):
            async with s.begin_nested():
                await ledger.post(s, transfer("spend", "p2p", TODAY, alice, bank, 301, "USD"))
        again = await ledger.place_hold(s, key="h1", account_id=alice, amount=700, currency="USD")
        assert again.id == hold.id
        posted = await ledger.post_hold(
            s, hold.id, amount=650, counter_account_id=payouts, key="h1:post", kind="payout", value_date=TODAY
        )
        assert (posted.status, posted.posted_amount) == ("posted", 650)
        state = (await ledger.balances(s, [alice]))[alice]
        assert (state.balance, state.available) == (350, 350)
        replay = await ledger.post_hold(
            s, hold.id, amount=650, counter_account_id=payouts, key="h1:post", kind="payout", value_date=TODAY
        )
        assert replay.resolution_entry_id == posted.resolution_entry_id
        with pytest.raises(ledger.HoldStateError):
            await ledger.void_hold(s, hold.id)
        assert await ledger.discrepancies(s) == []


async def test_a_voided_or_expired_hold_gives_the_funds_back(clean: Stack) -> None:
    async with clean.sessions.begin() as s:
        bank, alice = await source(s), await wallet(s, "alice")
        await ledger.post(s, transfer("fund", "topup", TODAY, bank, alice, 1000, "USD"))
        voided = await ledger.place_hold(s, key="v", account_id=alice, amount=400, currency="USD")
        await ledger.void_hold(s, voided.id)
        await ledger.void_hold(s, voided.id)  # twice is harmless
        past = datetime.now(UTC) - timedelta(minutes=1)
        await ledger.place_hold(s, key="e", account_id=alice, amount=600, currency="USD", expires_at=past)
        assert (await ledger.balances(s, [alice]))[alice].available == 400
        assert await ledger.expire_holds(s, datetime.now(UTC)) == 1
        assert (await ledger.balances(s, [alice]))[alice].available == 1000
        with pytest.raises(ledger.InsufficientFunds):
            async with s.begin_nested():
                await ledger.place_hold(s, key="big", account_id=alice, amount=1001, currency="USD")
        assert await ledger.discrepancies(s) == []


async def test_bulk_posting_keeps_the_rules_of_single_posting(clean: Stack) -> None:
    async with clean.sessions.begin() as s:
        bank = await source(s)
        wallets = [await wallet(s, f"w{n}") for n in range(50)]
    drafts = [transfer(f"bonus:{n}", "bonus", TODAY, bank, w, 100 + n, "USD") for n, w in enumerate(wallets)]
    async with clean.sessions.begin() as s:
        assert await ledger.post_many(s, drafts) == ledger.BulkResult(posted=50, replayed=0)
    async with clean.sessions.begin() as s:
        assert await ledger.post_many(s, drafts) == ledger.BulkResult(posted=0, replayed=50)
        held = await ledger.balances(s, wallets)
        assert [held[w].balance for w in wallets] == [100 + n for n in range(50)]
        assert await ledger.discrepancies(s) == []
    changed = [*drafts[:-1], transfer("bonus:49", "bonus", TODAY, bank, wallets[49], 1, "USD")]
    with pytest.raises(ledger.IdempotencyConflict):
        async with clean.sessions.begin() as s:
            await ledger.post_many(s, changed)
    async with clean.sessions.begin() as s:  # the single path recognises a bulk entry by its rows
        assert (await ledger.post(s, drafts[7])).replayed
        with pytest.raises(ledger.IdempotencyConflict):
            await ledger.post(s, transfer("bonus:7", "bonus", TODAY, bank, wallets[7], 108, "USD"))
    overdraw = [transfer("claw:0", "clawback", TODAY, wallets[0], bank, 101, "USD")]
    with pytest.raises(ledger.InsufficientFunds):
        async with clean.sessions.begin() as s:
            await ledger.post_many(s, overdraw)
    async with clean.sessions() as s:
        assert (await ledger.balances(s, [wallets[0]]))[wallets[0]].balance == 100


async def test_bulk_entries_keep_their_metadata_as_objects(clean: Stack) -> None:
    async with clean.sessions.begin() as s:
        bank, alice = await source(s), await wallet(s, "alice")
        await ledger.post_many(s, [transfer("meta:1", "bonus", TODAY, bank, alice, 5, "USD", batch="b1", reason="x")])
        assert await ledger.entry_metadata(s, "meta:1") == (
            await s.scalar(text("SELECT id FROM journal_entries WHERE idempotency_key = 'meta:1'")),
            {"batch": "b1", "reason": "x"},
        )


async def test_bulk_posting_keeps_awkward_keys_and_metadata_exactly(clean: Stack) -> None:
    key = "odd\tkey\\with\nnewline\r:1"
    async with clean.sessions.begin() as s:
        bank, alice = await source(s), await wallet(s, "alice")
        draft = transfer(key, "bonus\tkind", TODAY, bank, alice, 5, "USD", note="tab\there \\ and\nnewline")
        await ledger.post_many(s, [draft])
        stored = await ledger.entry_metadata(s, key)
        assert stored is not None and stored[1] == {"note": "tab\there \\ and\nnewline"}
        again = await ledger.post(s, draft)  # the single path finds the same entry by key and content
        assert again == ledger.PostedEntry(stored[0], replayed=True)


async def test_the_expiry_schedule_releases_holds_whose_time_ran_out(clean: Stack) -> None:
    async with clean.sessions.begin() as s:
        bank, alice = await source(s), await wallet(s, "alice")
        await ledger.post(s, transfer("fund", "fund", TODAY, bank, alice, 1_000, "USD"))
        past, later = datetime.now(UTC) - timedelta(seconds=1), datetime.now(UTC) + timedelta(hours=1)
        await ledger.place_hold(s, key="due", account_id=alice, amount=600, currency="USD", expires_at=past)
        await ledger.place_hold(s, key="not-yet", account_id=alice, amount=300, currency="USD", expires_at=later)
    await ensure_hold_expiry_schedule(clean.temporal, clean.settings)
    described = await clean.temporal.get_schedule_handle(HOLD_EXPIRY_SCHEDULE_ID).describe()
    assert described.schedule.spec.intervals[0].every == timedelta(minutes=1)
    await clean.temporal.get_schedule_handle(HOLD_EXPIRY_SCHEDULE_ID).delete()
    # What the Schedule starts each minute:
    expired = await clean.temporal.execute_workflow(
        HoldExpiryWorkflow.run, HoldSweep(), id="sweep-test", task_queue=clean.settings.queue_for(Family.PAYMENTS)
    )
    assert expired == 1
    async with clean.sessions() as s:
        assert (await ledger.balances(s, [alice]))[alice].available == 700  # only the hold not yet due remains


async def test_a_posting_alone_is_one_committed_round_trip_with_every_rule_of_post(clean: Stack) -> None:
    """The workers' path for an entry that is its whole transaction (store/posting_pool.py): committed when it
    returns, the same answers for a replay, a conflict, an overdraft, a wrong currency and mixed currencies."""
    async with clean.sessions.begin() as s:
        bank, alice, bob = await source(s), await wallet(s, "alice"), await wallet(s, "bob")
        bank_eur, bob_eur = await source(s, "EUR"), await wallet(s, "bob", "EUR")
    pool = PostingPool(clean.settings.database_url or "", size=2)
    try:
        first = await pool.post(transfer("alone-1", "topup", TODAY, bank, alice, 1500, "USD"))
        assert not first.replayed
        assert await pool.post(transfer("alone-1", "topup", TODAY, bank, alice, 1500, "USD")) == ledger.PostedEntry(
            first.id, replayed=True
        )
        with pytest.raises(ledger.IdempotencyConflict):
            await pool.post(transfer("alone-1", "topup", TODAY, bank, alice, 1501, "USD"))
        with pytest.raises(ledger.InsufficientFunds):
            await pool.post(transfer("alone-2", "p2p", TODAY, alice, bob, 1501, "USD"))
        with pytest.raises(ledger.AccountMismatch):
            await pool.post(transfer("alone-3", "p2p", TODAY, bank, bob_eur, 10, "USD"))
        # An FX-like entry: each currency balances on its own, the currencies travel per posting.
        mixed = (Posting(alice, -500, "USD"), Posting(bank, 500, "USD"), Posting(bank_eur, -450, "EUR"))
        await pool.post(EntryDraft("alone-4", "fx", TODAY, (*mixed, Posting(bob_eur, 450, "EUR"))))
        # Two postings to one account net in one balance change.
        await pool.post(
            EntryDraft(
                "alone-5",
                "p2p",
                TODAY,
                (Posting(alice, -100, "USD"), Posting(alice, 40, "USD"), Posting(bob, 60, "USD")),
            )
        )
    finally:
        await pool.close()
    async with clean.sessions() as s:
        held = await ledger.balances(s, [bank, alice, bob, bank_eur, bob_eur])
        assert [held[a].balance for a in (bank, alice, bob, bank_eur, bob_eur)] == [-1000, 940, 60, -450, 450]
        assert await ledger.discrepancies(s) == []
        assert await ledger.unbalanced_entries(s) == 0
        # What was refused left no entry behind.
        keys = await s.scalars(text("SELECT idempotency_key FROM journal_entries ORDER BY id"))
        assert list(keys) == ["alone-1", "alone-4", "alone-5"]


async def test_entries_posted_at_once_share_a_commit_and_each_gets_its_own_answer(clean: Stack) -> None:
    """Group commit (store/posting_pool.py): with one connection, everything posted while it is busy travels in one
    statement; an overdraft, a wrong account and a conflict in the middle refuse those entries alone, a replay in the
    same batch answers the first entry, and what was refused leaves nothing behind."""
    async with clean.sessions.begin() as s:
        bank, alice, bob = await source(s), await wallet(s, "alice"), await wallet(s, "bob")
        bob_eur = await wallet(s, "bob", "EUR")
    pool = PostingPool(clean.settings.database_url or "", size=1)
    drafts = [
        transfer("g-fund", "topup", TODAY, bank, alice, 1000, "USD"),
        transfer("g-1", "p2p", TODAY, alice, bob, 300, "USD"),
        transfer("g-too-much", "p2p", TODAY, alice, bob, 701, "USD"),  # 700 left after g-1
        transfer("g-wrong", "p2p", TODAY, bank, bob_eur, 10, "USD"),
        transfer("g-1", "p2p", TODAY, alice, bob, 300, "USD"),  # a replay inside the batch
        transfer("g-fund", "topup", TODAY, bank, alice, 999, "USD"),  # the key with other content
        transfer("g-2", "p2p", TODAY, alice, bob, 700, "USD"),
    ]
    try:
        await pool.post(transfer("g-warm", "topup", TODAY, bank, bob, 1, "USD"))
        # All seven are waiting by the time the connection's sender runs: one statement, one commit.
        answers = await asyncio.gather(*(pool.post(d) for d in drafts), return_exceptions=True)
    finally:
        await pool.close()
    assert (pool.commits, pool.entries) == (2, 8)
    fund, first, too_much, wrong, replay, conflict, second = answers
    assert isinstance(fund, ledger.PostedEntry) and isinstance(first, ledger.PostedEntry)
    assert isinstance(too_much, ledger.InsufficientFunds)
    assert isinstance(wrong, ledger.AccountMismatch)
    assert replay == ledger.PostedEntry(first.id, replayed=True)
    assert isinstance(conflict, ledger.IdempotencyConflict)
    assert isinstance(second, ledger.PostedEntry) and not second.replayed
    async with clean.sessions() as s:
        held = await ledger.balances(s, [bank, alice, bob])
        assert [held[a].balance for a in (bank, alice, bob)] == [-1001, 0, 1001]
        assert await ledger.discrepancies(s) == []
        keys = await s.scalars(text("SELECT idempotency_key FROM journal_entries ORDER BY id"))
        assert list(keys) == ["g-warm", "g-fund", "g-1", "g-2"]


async def test_a_broken_connection_fails_its_batch_and_the_next_post_reconnects(clean: Stack) -> None:
    """The server ends the pool's connection (a failover, an idle timeout): the entries that were on it get the
    error (their callers retry with the same keys), nothing is half-posted, and the next post opens a new one."""
    async with clean.sessions.begin() as s:
        bank, alice = await source(s), await wallet(s, "alice")
    pool = PostingPool(clean.settings.database_url or "", size=1, application_name="broken-in-test")
    try:
        await pool.post(transfer("b-1", "topup", TODAY, bank, alice, 100, "USD"))
        async with clean.sessions.begin() as s:
            ended = await s.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'broken-in-test'"
                )
            )
        assert ended and ended >= 1
        answers = await asyncio.gather(
            *(pool.post(transfer(f"b-{n}", "topup", TODAY, bank, alice, 100, "USD")) for n in (2, 3)),
            return_exceptions=True,
        )
        assert all(isinstance(a, psycopg.OperationalError) for a in answers), answers
        retried = [await pool.post(transfer(f"b-{n}", "topup", TODAY, bank, alice, 100, "USD")) for n in (2, 3)]
        assert not any(r.replayed for r in retried)
    finally:
        await pool.close()
    async with clean.sessions() as s:
        assert (await ledger.balances(s, [alice]))[alice].balance == 300
        assert await ledger.discrepancies(s) == []
