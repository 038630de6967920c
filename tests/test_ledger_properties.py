"""Property tests of the money rules: random operations, including replays and concurrent transfers, never
unbalance the ledger, never drift stored balances from postings, and never take a wallet below zero."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from domain.currency import MINOR_UNITS
from domain.fx import FxRate, convert
from domain.ledger import Posting, transfer, validate_postings
from domain.money import Money
from domain.wallet_rules import TransferRules, transfer_fee
from store import ledger
from store.posting_pool import PostingPool
from tests.conftest import Stack
from tests.ledger_fixtures import source, wallet

TODAY = date(2026, 11, 22)
WALLETS = 4

operation = st.one_of(
    st.tuples(st.just("fund"), st.integers(0, WALLETS - 1), st.integers(1, 5_000)),
    st.tuples(st.just("move"), st.integers(0, WALLETS - 1), st.integers(0, WALLETS - 1), st.integers(1, 5_000)),
    st.tuples(st.just("hold"), st.integers(0, WALLETS - 1), st.integers(1, 5_000)),
    st.tuples(st.just("settle"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("bulk"), st.lists(st.integers(-3_000, 3_000), min_size=WALLETS, max_size=WALLETS)),
    st.tuples(st.just("replay"), st.integers(0, 50)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=25))
async def test_random_operations_keep_the_ledger_whole(clean: Stack, operations: list[tuple[object, ...]]) -> None:
    async with clean.sessions.begin() as s:
        await s.execute(text("TRUNCATE accounts, journal_entries, postings, holds RESTART IDENTITY CASCADE"))
        bank = await source(s)
        wallets = [await wallet(s, f"p{n}") for n in range(WALLETS)]
    done: list[tuple[str, object]] = []  # (kind, replayable request)
    holds: list[int] = []
    for n, op in enumerate(operations):
        try:
            async with clean.sessions.begin() as s:
                match op:
                    case ("fund", w, amount):
                        draft = transfer(f"op{n}", "fund", TODAY, bank, wallets[w], amount, "USD")
                        await ledger.post(s, draft)
                        done.append(("post", draft))
                    case ("move", a, b, amount) if a != b:
                        draft = transfer(f"op{n}", "p2p", TODAY, wallets[a], wallets[b], amount, "USD")
                        await ledger.post(s, draft)
                        done.append(("post", draft))
                    case ("hold", w, amount):
                        hold = await ledger.place_hold(
                            s, key=f"op{n}", account_id=wallets[w], amount=amount, currency="USD"
                        )
                        holds.append(hold.id)
                    case ("settle", pick, post_it) if holds:
                        hold_id = holds[pick % len(holds)]
                        if post_it:
                            await ledger.post_hold(
                                s,
                                hold_id,
                                amount=1,
                                counter_account_id=bank,
                                key=f"settle{hold_id}",
                                kind="payout",
                                value_date=TODAY,
                            )
                        else:
                            await ledger.void_hold(s, hold_id)
                    case ("bulk", deltas):
                        drafts = [
                            transfer(f"op{n}:{i}", "bulk", TODAY, bank, wallets[i], d, "USD")
                            if d > 0
                            else transfer(f"op{n}:{i}", "bulk", TODAY, wallets[i], bank, -d, "USD")
                            for i, d in enumerate(deltas)
                            if d != 0
                        ]
                        await ledger.post_many(s, drafts)
                        done.append(("bulk", drafts))
                    case ("replay", pick) if done:
                        kind, request = done[pick % len(done)]
                        before = await ledger.balances(s, [bank, *wallets])
                        if kind == "post":
                            assert (await ledger.post(s, request)).replayed  # type: ignore[arg-type]
                        else:
                            assert (await ledger.post_many(s, request)).posted == 0  # type: ignore[arg-type]
                        assert await ledger.balances(s, [bank, *wallets]) == before
        except (ledger.InsufficientFunds, ledger.HoldStateError):
            pass  # refused operations are part of the story; the invariants below must hold regardless
    async with clean.sessions() as s:
        assert await ledger.discrepancies(s) == []
        assert await ledger.unbalanced_entries(s) == 0
        state = await ledger.balances(s, wallets)
        assert all(b.balance >= 0 and b.available >= 0 for b in state.values())
        assert sum(b.balance for b in (await ledger.balances(s, [bank, *wallets])).values()) == 0


async def test_concurrent_transfers_among_hot_accounts_end_exact(clean: Stack) -> None:
    async with clean.sessions.begin() as s:
        bank = await source(s)
        hot = [await wallet(s, f"hot{n}") for n in range(3)]
        for n, account in enumerate(hot):
            await ledger.post(s, transfer(f"seed{n}", "fund", TODAY, bank, account, 10_000, "USD"))

    async def client(worker: int) -> list[tuple[int, int, int]]:
        applied = []
        for i in range(40):
            a, b = hot[(worker + i) % 3], hot[(worker + i + 1) % 3]
            amount = 1 + (worker * 7 + i * 13) % 500
            try:
                async with clean.sessions.begin() as s:
                    await ledger.post(s, transfer(f"c{worker}:{i}", "p2p", TODAY, a, b, amount, "USD"))
                applied.append((a, b, amount))
            except ledger.InsufficientFunds:
                pass
        return applied

    results = await asyncio.gather(*(client(worker) for worker in range(8)))
    expected = dict.fromkeys(hot, 10_000)
    for applied in results:
        for a, b, amount in applied:
            expected[a] -= amount
            expected[b] += amount
    async with clean.sessions() as s:
        state = await ledger.balances(s, hot)
        assert {a: state[a].balance for a in hot} == expected
        assert await ledger.discrepancies(s) == []


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    moves=st.lists(
        st.tuples(st.integers(0, WALLETS - 1), st.integers(0, WALLETS - 1), st.integers(1, 400), st.booleans()),
        min_size=1,
        max_size=40,
    ),
    connections=st.integers(1, 3),
)
async def test_group_commit_answers_each_entry_as_if_it_went_alone(
    clean: Stack, moves: list[tuple[int, int, int, bool]], connections: int
) -> None:
    """Transfers posted at once through the posting pool (batched, store/posting_pool.py) beside transfers in
    transactions of their own: every accepted entry moved exactly its amount, every refused one nothing, no wallet
    went below zero, and a key sent twice was posted once."""
    async with clean.sessions.begin() as s:
        await s.execute(text("TRUNCATE accounts, journal_entries, postings, holds RESTART IDENTITY CASCADE"))
        bank = await source(s)
        wallets = [await wallet(s, f"g{n}") for n in range(WALLETS)]
        for n, account in enumerate(wallets):
            await ledger.post(s, transfer(f"seed{n}", "fund", TODAY, bank, account, 1_000, "USD"))
    pool = PostingPool(clean.settings.database_url or "", size=connections)

    async def move(n: int, a: int, b: int, amount: int, alone: bool) -> tuple[int, int, int] | None:
        draft = transfer(f"m{n // 2 if n % 2 and alone else n}", "p2p", TODAY, wallets[a], wallets[b], amount, "USD")
        try:
            if alone:
                async with clean.sessions.begin() as s:
                    posted = await ledger.post(s, draft)
            else:
                posted = await pool.post(draft)
        except (ledger.InsufficientFunds, ledger.IdempotencyConflict):
            return None
        return None if posted.replayed else (a, b, amount)

    try:
        applied = await asyncio.gather(*(move(n, *m) for n, m in enumerate(moves) if m[0] != m[1]))
    finally:
        await pool.close()
    expected = dict.fromkeys(wallets, 1_000)
    for a, b, amount in filter(None, applied):
        expected[wallets[a]] -= amount
        expected[wallets[b]] += amount
    async with clean.sessions() as s:
        state = await ledger.balances(s, wallets)
        assert {w: state[w].balance for w in wallets} == expected
        assert await ledger.discrepancies(s) == []
        entries = await s.scalar(text("SELECT count(*) FROM journal_entries WHERE kind = 'p2p'"))
        assert entries == len([x for x in applied if x])


async def test_concurrent_withdrawals_never_overdraw(clean: Stack) -> None:
    async with clean.sessions.begin() as s:
        bank, alice = await source(s), await wallet(s, "alice")
        await ledger.post(s, transfer("fund", "fund", TODAY, bank, alice, 100, "USD"))

    async def withdraw(n: int) -> bool:
        try:
            async with clean.sessions.begin() as s:
                await ledger.post(s, transfer(f"w{n}", "payout", TODAY, alice, bank, 10, "USD"))
            return True
        except ledger.InsufficientFunds:
            return False

    outcomes = await asyncio.gather(*(withdraw(n) for n in range(25)))
    assert sum(outcomes) == 10
    async with clean.sessions() as s:
        assert (await ledger.balances(s, [alice]))[alice].balance == 0


# --- pure money rules ---------------------------------------------------------------------------------------------

currencies = st.sampled_from(sorted(MINOR_UNITS))
rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("100000"), places=6)


@given(st.integers(0, 10**12), currencies, currencies, rates)
def test_conversion_rounds_once_to_the_nearest_minor_unit(amount: int, base: str, quote: str, rate: Decimal) -> None:
    if base == quote:
        return
    converted = convert(Money(amount, base), FxRate(base, quote, rate))
    exact = Decimal(amount) * rate * Decimal(10) ** (MINOR_UNITS[quote] - MINOR_UNITS[base])
    assert converted.currency == quote
    assert abs(Decimal(converted.amount) - exact) <= Decimal("0.5")


@given(st.lists(st.tuples(st.integers(1, 50), st.integers(-(10**9), 10**9).filter(bool)), min_size=1, max_size=10))
def test_an_entry_balances_exactly_when_its_postings_sum_to_zero(legs: list[tuple[int, int]]) -> None:
    postings = [Posting(account, amount, "USD") for account, amount in legs]
    total = sum(amount for _, amount in legs)
    postings.append(Posting(99, -total, "USD")) if total else None
    if total == 0 and len(postings) < 2:
        return
    validate_postings(postings)


@given(st.integers(1, 10**10), st.decimals(min_value=0, max_value=Decimal("99.99"), places=2), st.integers(0, 10**4))
def test_a_fee_is_never_negative_and_grows_with_the_amount(amount: int, percent: Decimal, fixed: int) -> None:
    rules = TransferRules(min_amount=0, max_amount=None, fee_percent=percent, fee_fixed=fixed)
    fee = transfer_fee(Money(amount, "USD"), rules, fixed)
    bigger = transfer_fee(Money(amount + 1, "USD"), rules, fixed)
    assert 0 <= fee.amount <= bigger.amount
    assert fee.amount >= fixed
