"""Ledger throughput on the embedded PostgreSQL, against the same database work done with the fewest raw statements.

    python bench/ledger.py [--seconds 4] [--bulk-postings 1000000]

Transfers, 1, 4 and 16 clients, random wallet-to-wallet transfers:
- `worker_path`: as the workers post an entry that is its whole transaction: `PostingPool.post` with the workers'
  default number of connections (`--pool-size`), one round trip on an autocommit connection when it is free, and
  the entries that waited for it together in one statement and one commit (group commit, store/posting_pool.py);
- `tx_path`: the same function inside BEGIN ... COMMIT on a psycopg connection (`store.ledger.post` in a
  transaction, three round trips), the comparison the issue asked for;
- `raw`: the baseline, the same database work in the fewest plain statements (lock two rows, insert two postings,
  update two balances) in a transaction;
- `sqlalchemy`: `store.ledger.post` inside `engine.begin()`, as workers post entries that share a transaction.
`client_cpu_ms_per_transfer_<n>` is this process's CPU time (all of it is the client: the server is another
process) divided by the transfers made.
Bulk: `store.ledger.post_many` for N/2 two-posting entries, then the baseline: COPY of the same N posting rows and one
UPDATE of the balances from their aggregate. The last line is one JSON object of the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import text

from bench.stack import bench_database
from config.settings import Settings
from domain.accounts import HouseAccount
from domain.ledger import AccountKind, EntryDraft, Posting, transfer
from store import ledger
from store.db import make_engine, make_session_factory
from store.posting_pool import PostingPool

WALLETS = 1_000
TODAY = date(2026, 11, 22)


async def setup(url: str) -> tuple[int, list[int]]:
    engine = make_engine(url, pool_size=2)
    sessions = make_session_factory(engine)
    async with sessions.begin() as s:
        source = await ledger.open_account(
            s,
            code="bench:source",
            owner_type="company",
            owner_id=None,
            currency="USD",
            kind=AccountKind.ASSET,
            allow_negative=True,
        )
        wallets = [
            await ledger.open_account(
                s,
                code=f"bench:w{n}",
                owner_type="user",
                owner_id=None,
                currency="USD",
                kind=AccountKind.LIABILITY,
                allow_negative=False,
            )
            for n in range(WALLETS)
        ]
        await ledger.post_many(s, [transfer(f"seed{w}", "fund", TODAY, source, w, 10**9, "USD") for w in wallets])
        await s.execute(
            text(
                "CREATE TABLE raw_postings (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, entry_id bigint, "
                "account_id bigint, amount bigint, currency char(3), value_date date);"
                "CREATE INDEX ON raw_postings (entry_id); CREATE INDEX ON raw_postings (account_id, value_date);"
                "CREATE SEQUENCE raw_entries"
            )
        )
    await engine.dispose()
    return source, wallets


async def ours_transfers(
    url: str, wallets: list[int], clients: int, seconds: float, run: str, layer: str, pool_size: int = 1
) -> tuple[float, float]:
    """Transfers per second and client CPU milliseconds per transfer. `layer`: "worker" (the posting pool),
    "tx" (a psycopg connection per client, BEGIN/post/COMMIT) or "sqlalchemy" (`engine.begin()`)."""
    engine = make_engine(url, pool_size=clients)
    pool = PostingPool(url, size=pool_size)
    deadline = time.perf_counter() + seconds
    done = 0

    async def client(c: int) -> None:
        nonlocal done
        rng, n = random.Random(c), 0
        async with await psycopg.AsyncConnection.connect(url) as conn:
            while time.perf_counter() < deadline:
                a, b = rng.sample(wallets, 2)
                draft = transfer(f"{run}:{c}:{n}", "p2p", TODAY, a, b, rng.randint(1, 100), "USD")
                if layer == "worker":
                    await pool.post(draft)
                elif layer == "tx":
                    async with conn.transaction():
                        await ledger.post(conn, draft)
                else:
                    async with engine.begin() as connection:
                        await ledger.post(connection, draft)
                n += 1
                done += 1

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    await pool.close()
    await engine.dispose()
    return done / elapsed, cpu * 1000 / max(done, 1)


async def fee_transfers(url: str, wallets: list[int], clients: int, seconds: float, run: str, sharded: bool) -> float:
    """Transfers that also credit a fee to the company's fee income: the house-account hot spot."""
    engine = make_engine(url, pool_size=clients)
    async with engine.begin() as connection:
        fee_accounts = [
            await ledger.house_account(connection, HouseAccount.FEE_INCOME, "USD", shard)
            for shard in range(ledger.HOUSE_SHARDS)
        ]
    deadline = time.perf_counter() + seconds
    done = 0

    async def client(c: int) -> None:
        nonlocal done
        rng, n = random.Random(50 + c), 0
        while time.perf_counter() < deadline:
            a, b = rng.sample(wallets, 2)
            key = f"{run}:{c}:{n}"
            fee_account = fee_accounts[ledger.house_shard(key)] if sharded else fee_accounts[0]
            amount = rng.randint(10, 100)
            postings = (Posting(a, -(amount + 1), "USD"), Posting(b, amount, "USD"), Posting(fee_account, 1, "USD"))
            async with engine.begin() as connection:
                await ledger.post(connection, EntryDraft(key, "p2p", TODAY, postings))
            n += 1
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return done / elapsed


async def raw_transfers(url: str, wallets: list[int], clients: int, seconds: float) -> float:
    deadline = time.perf_counter() + seconds
    done = 0

    async def client(c: int) -> None:
        nonlocal done
        rng = random.Random(1000 + c)
        async with await psycopg.AsyncConnection.connect(url) as conn:
            while time.perf_counter() < deadline:
                a, b = sorted(rng.sample(wallets, 2))
                amount = rng.randint(1, 100)
                async with conn.transaction():
                    await conn.execute(
                        "SELECT id FROM accounts WHERE id IN (%s, %s) ORDER BY id FOR NO KEY UPDATE", (a, b)
                    )
                    await conn.execute(
                        "INSERT INTO raw_postings (entry_id, account_id, amount, currency, value_date) "
                        "SELECT e, x, y, 'USD', %s FROM nextval('raw_entries') e, "
                        "(VALUES (%s::bigint, %s::bigint), (%s::bigint, %s::bigint)) v(x, y)",
                        (TODAY, a, -amount, b, amount),
                    )
                    await conn.execute(
                        "UPDATE accounts SET balance = balance + v.d FROM (VALUES (%s::bigint, %s::bigint), "
                        "(%s::bigint, %s::bigint)) v(i, d) WHERE id = v.i",
                        (a, -amount, b, amount),
                    )
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    return done / (time.perf_counter() - started)


async def ours_bulk(url: str, source: int, wallets: list[int], postings: int) -> float:
    rng = random.Random(7)
    drafts = [
        transfer(f"bulk:{n}", "bonus", TODAY, source, wallets[n % len(wallets)], rng.randint(1, 100), "USD")
        for n in range(postings // 2)
    ]
    started = time.perf_counter()
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.transaction():
        result = await ledger.post_many(conn, drafts)
    elapsed = time.perf_counter() - started
    assert result.posted == len(drafts)
    return postings / elapsed


async def raw_bulk(url: str, source: int, wallets: list[int], postings: int) -> float:
    rng = random.Random(7)
    rows = []
    for n in range(postings // 2):
        amount = rng.randint(1, 100)
        rows.append((n, source, -amount))
        rows.append((n, wallets[n % len(wallets)], amount))
    started = time.perf_counter()
    async with await psycopg.AsyncConnection.connect(url) as conn, conn.transaction(), conn.cursor() as cur:
        async with cur.copy("COPY raw_postings (entry_id, account_id, amount, currency, value_date) FROM STDIN") as cp:
            for entry, account, amount in rows:
                await cp.write_row((entry, account, amount, "USD", TODAY))
        await cur.execute(
            "UPDATE accounts a SET balance = a.balance + d.s FROM (SELECT account_id, sum(amount) s "
            "FROM raw_postings GROUP BY account_id) d WHERE a.id = d.account_id"
        )
    return postings / (time.perf_counter() - started)


async def main(seconds: float, bulk_postings: int, pool_size: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with bench_database() as url:
        source, wallets = await setup(url)
        print(f"{'clients':>8} {'worker/s':>9} {'cpu ms':>7} {'tx/s':>7} {'cpu ms':>7} {'raw/s':>7} {'sqla/s':>7}")
        for clients in (1, 4, 16):
            worker, worker_cpu = await ours_transfers(
                url, wallets, clients, seconds, f"w{clients}", "worker", pool_size
            )
            tx, tx_cpu = await ours_transfers(url, wallets, clients, seconds, f"t{clients}", "tx")
            raw = await raw_transfers(url, wallets, clients, seconds)
            layered, _ = await ours_transfers(url, wallets, clients, seconds, f"s{clients}", "sqlalchemy")
            figures[f"worker_path_transfers_per_s_{clients}"] = round(worker, 1)
            figures[f"client_cpu_ms_per_transfer_{clients}"] = round(worker_cpu, 3)
            figures[f"tx_path_transfers_per_s_{clients}"] = round(tx, 1)
            figures[f"tx_path_client_cpu_ms_per_transfer_{clients}"] = round(tx_cpu, 3)
            figures[f"worker_vs_tx_path_{clients}"] = round(worker / tx, 3)
            figures[f"raw_transfers_per_s_{clients}"] = round(raw, 1)
            figures[f"worker_vs_raw_{clients}"] = round(worker / raw, 3)
            figures[f"sqlalchemy_transfers_per_s_{clients}"] = round(layered, 1)
            figures[f"sqlalchemy_transfer_ratio_{clients}"] = round(layered / raw, 3)
            print(
                f"{clients:>8} {worker:>9.0f} {worker_cpu:>7.3f} {tx:>7.0f} {tx_cpu:>7.3f} {raw:>7.0f} {layered:>7.0f}"
            )
        single = await fee_transfers(url, wallets, 16, seconds, "fee-single", sharded=False)
        sharded = await fee_transfers(url, wallets, 16, seconds, "fee-sharded", sharded=True)
        figures["fee_transfers_per_s_16_single_house"] = round(single, 1)
        figures["fee_transfers_per_s_16_sharded_house"] = round(sharded, 1)
        figures["house_sharding_ratio"] = round(sharded / single, 3)
        print(
            f"fee transfers, 16 clients: one house account {single:.0f}/s, {ledger.HOUSE_SHARDS} shards {sharded:.0f}/s"
        )
        ours_rate = await ours_bulk(url, source, wallets, bulk_postings)
        raw_rate = await raw_bulk(url, source, wallets, bulk_postings)
        figures["bulk_postings"] = bulk_postings
        figures["bulk_postings_per_s"] = round(ours_rate)
        figures["raw_bulk_postings_per_s"] = round(raw_rate)
        figures["bulk_ratio"] = round(ours_rate / raw_rate, 3)
        print(
            f"bulk: {bulk_postings} postings  ours {ours_rate:,.0f}/s  raw {raw_rate:,.0f}/s  "
            f"ratio {ours_rate / raw_rate:.2f}"
        )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--bulk-postings", type=int, default=1_000_000)
    parser.add_argument("--pool-size", type=int, default=Settings.model_fields["posting_pool_size"].default)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.seconds, args.bulk_postings, args.pool_size))))
