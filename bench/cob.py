"""Close-of-business accrual over a loan book on the embedded PostgreSQL, against the same database work done with
the fewest raw statements.

    python bench/cob.py [--loans 100000] [--rounds 3]

The book: N active loans of one product (daily interest, penalty interest after the due date, a fine at 5 days
past due), a mix of current and overdue (a third each of loans started 10, 25 and 40 days before the first date).
Each loan's coming nights are projected by the engine (`project_nights`, computed once per distinct loan shape and
copied to the loans of that shape, since a projection depends on nothing else).

Each round closes one business date with the `cob_accrue` activity exactly as a worker runs it (batches of
`cob_batch_size` loans per statement, loan rows updated, accounts locked in id order, heartbeats), then does the
baseline for the next date: one INSERT ... SELECT of the same entries and postings from the same projections and
one UPDATE of the same balances from their aggregate (no batching, no loan rows, no locks beyond the UPDATE's).
Rounds alternate which goes first. The last line is one JSON object with `loan_days_per_s` and `cob_ratio`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from temporalio.testing import ActivityEnvironment

from activities.close_of_business import CloseOfBusinessActivities
from bench.stack import bench_database
from contracts.servicing import CobDay, CobProgress
from domain.accounts import INCOME_FOR
from domain.lending.collections import DEFAULT_LADDER, thresholds
from domain.lending.engine import SignedLoan, project_nights
from domain.lending.products import terms_from_stored
from domain.lending.schedule import build_schedule
from domain.lending.servicing import night_rows
from services.loan_book import LoanBook
from store import ledger
from store.db import make_engine, make_session_factory
from store.repositories import products as product_store

FIRST = date(2026, 11, 2)
TERMS = {
    "principal_min": 10_000,
    "principal_max": 100_000,
    "principal_step": 1_000,
    "term_min_days": 7,
    "term_max_days": 60,
    "daily_rate": "0.008",
    "origination_fee_percent": "5",
    "penalty_daily_rate": "0.002",
    "fines": [{"days_past_due": 5, "amount": 1_000}],
}
PRINCIPALS = [10_000 + 1_000 * n for n in range(20)]
AGES = (10, 25, 40)  # days since the loan started, on the first date closed
TERM_DAYS = 30


async def setup(url: str, loans: int, nights: int) -> None:
    engine = make_engine(url, pool_size=2)
    sessions = make_session_factory(engine)
    async with sessions.begin() as s:
        product = await product_store.add_product(s, code="bench", name="bench", currency="GBP")
        assert product is not None
        version = await product_store.add_version(
            s,
            product_id=product.id,
            valid_from=datetime(2026, 1, 1, tzinfo=UTC),
            terms=TERMS,
            profile=None,
            min_repaid_loans=0,
            max_repaid_loans=None,
        )
        income = {
            c.value: [await ledger.house_account(s, purpose, "GBP", shard) for shard in range(ledger.HOUSE_SHARDS)]
            for c, purpose in INCOME_FOR.items()
        }
        user_id = uuid.uuid4()
        await s.execute(
            text(
                "INSERT INTO users (id, phone_lookup, phone_encrypted, kind, created_at) VALUES"
                " (:id, '\\x00', '\\x00', 'customer', now())"
            ),
            {"id": user_id},
        )
        shapes = [(p, FIRST - timedelta(days=age)) for p in PRINCIPALS for age in AGES]
        await s.execute(text("CREATE TEMP TABLE shapes (n int, principal bigint, start_date date)"))
        await s.execute(
            text(
                "INSERT INTO shapes SELECT * FROM unnest(CAST(:n AS int[]), CAST(:p AS bigint[]), CAST(:d AS date[]))"
            ),
            {"n": list(range(len(shapes))), "p": [p for p, _ in shapes], "d": [d for _, d in shapes]},
        )
        params = {
            "n": loans,
            "user": user_id,
            "product": product.id,
            "version": version.id,
            "shapes": len(shapes),
            "term": TERM_DAYS,
        }
        await s.execute(
            text("""
            INSERT INTO loan_applications (id, user_id, product_id, product_version_id, principal, term_days, currency,
                monthly_income, applicant_encrypted, national_id_lookup, phone_lookup, status)
            SELECT md5('app' || g)::uuid, :user, :product, :version, sh.principal, :term, 'GBP', 0, '\\x00', '\\x00',
                   '\\x00', 'disbursed'
            FROM generate_series(1, :n) g JOIN shapes sh ON sh.n = g % :shapes"""),
            params,
        )
        await s.execute(
            text("""
            INSERT INTO loans (id, application_id, user_id, product_id, product_version_id, currency, principal,
                origination_fee, term_days, start_date, due_date, status, accounts, terms, accrued_through,
                projected_until, overdue_since)
            SELECT md5('loan' || g)::uuid, md5('app' || g)::uuid, :user, :product, :version, 'GBP', sh.principal,
                   sh.principal / 20, :term, sh.start_date, sh.start_date + :term,
                   CASE WHEN sh.start_date + :term < :first THEN 'overdue' ELSE 'active' END, '{}'::jsonb,
                   CAST(:terms AS jsonb), CAST(:first AS date) - 1, CAST(:first AS date) + :nights,
                   CASE WHEN sh.start_date + :term < :first THEN sh.start_date + :term END
            FROM generate_series(1, :n) g JOIN shapes sh ON sh.n = g % :shapes"""),
            params | {"terms": json.dumps(TERMS), "first": FIRST, "nights": nights},
        )
        await s.execute(
            text("""
            INSERT INTO accounts (code, owner_type, owner_id, currency, kind, allow_negative)
            SELECT 'loan:' || l.id || ':' || c, 'loan', l.id, 'GBP', 'asset', true
            FROM loans l CROSS JOIN unnest(ARRAY['principal', 'interest', 'penalty', 'fees', 'fines']) c""")
        )
        await s.execute(
            text("""
            UPDATE loans l SET accounts = jsonb_build_object(
                'receivable', (SELECT jsonb_object_agg(split_part(a.code, ':', 3), a.id) FROM accounts a
                               WHERE a.owner_type = 'loan' AND a.owner_id = l.id),
                'income', jsonb_build_object('interest', (CAST(:i AS bigint[]))[1 + abs(hashtext(l.id::text)) % 16],
                    'penalty', (CAST(:p AS bigint[]))[1 + abs(hashtext(l.id::text)) % 16],
                    'fines', (CAST(:f AS bigint[]))[1 + abs(hashtext(l.id::text)) % 16],
                    'fees', (CAST(:e AS bigint[]))[1 + abs(hashtext(l.id::text)) % 16]))"""),
            {"i": income["interest"], "p": income["penalty"], "f": income["fines"], "e": income["fees"]},
        )
        # One projection per shape, copied to its loans.
        terms = terms_from_stored(TERMS, "GBP")
        rows: list[tuple[int, object]] = []
        for n, (principal, start) in enumerate(shapes):
            signed = SignedLoan(terms, principal, start, tuple(build_schedule(terms, principal, start, TERM_DAYS)))
            projected = project_nights(signed, [], FIRST, nights)
            status = "overdue" if start + timedelta(days=TERM_DAYS) < FIRST else "active"
            rows += [(n, r) for r in night_rows(projected, status, thresholds(DEFAULT_LADDER))]
        await s.execute(
            text(
                "CREATE TEMP TABLE shape_nights (n int, d date, i bigint, p bigint, f bigint, s text,"
                " o date, notice text)"
            )
        )
        await s.execute(
            text(
                "INSERT INTO shape_nights SELECT * FROM unnest(CAST(:n AS int[]), CAST(:d AS date[]),"
                " CAST(:i AS bigint[]), CAST(:p AS bigint[]), CAST(:f AS bigint[]), CAST(:s AS text[]),"
                " CAST(:o AS date[]), CAST(:notice AS text[]))"
            ),
            {
                "n": [n for n, _ in rows],
                "d": [r.accrual_date for _, r in rows],  # type: ignore[attr-defined]
                "i": [r.interest for _, r in rows],
                "p": [r.penalty for _, r in rows],  # type: ignore[attr-defined]
                "f": [r.fines for _, r in rows],
                "s": [r.status for _, r in rows],  # type: ignore[attr-defined]
                "o": [r.overdue_since for _, r in rows],
                "notice": [r.notice for _, r in rows],
            },
        )  # type: ignore[attr-defined]
        await s.execute(
            text("""
            INSERT INTO loan_night_projections (accrual_date, loan_id, interest, penalty, fines, status, overdue_since,
                notice)
            SELECT r.d, l.id, r.i, r.p, r.f, r.s, r.o, r.notice FROM loans l
            JOIN shapes sh ON sh.principal = l.principal AND sh.start_date = l.start_date
            JOIN shape_nights r ON r.n = sh.n""")
        )
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
    await engine.dispose()


async def ours(url: str, day: date, batch: int) -> tuple[int, float]:
    engine = make_engine(url, pool_size=2)
    cob = CloseOfBusinessActivities(
        make_session_factory(engine), LoanBook("UTC"), None, timezone="UTC", allow_future=True, batch_size=batch
    )
    began = time.perf_counter()
    progress = await ActivityEnvironment().run(cob.cob_accrue, CobDay(business_date=day))
    elapsed = time.perf_counter() - began
    await engine.dispose()
    assert isinstance(progress, CobProgress)
    return progress.loans, elapsed


RAW = """
WITH batch AS MATERIALIZED (
    SELECT l.id AS loan_id, l.currency, l.accounts, p.interest, p.penalty, p.fines,
           nextval('journal_entries_id_seq') AS entry_id
    FROM loan_night_projections p JOIN loans l ON l.id = p.loan_id
    WHERE p.accrual_date = %(d)s AND (p.interest <> 0 OR p.penalty <> 0 OR p.fines <> 0)
), entries AS (
    INSERT INTO journal_entries (id, idempotency_key, content_hash, kind, value_date)
    SELECT entry_id, 'raw:' || loan_id || ':' || %(d)s::text,
           sha256(convert_to(concat_ws('|', 'raw', %(d)s::text, loan_id, interest, penalty, fines), 'UTF8')),
           'raw_accrual', %(d)s FROM batch
)
INSERT INTO postings (entry_id, account_id, amount, currency, value_date)
SELECT b.entry_id, v.account_id, v.amount, b.currency, %(d)s
FROM batch b CROSS JOIN LATERAL (VALUES
    ((b.accounts #>> '{receivable,interest}')::bigint, -b.interest),
    ((b.accounts #>> '{income,interest}')::bigint, b.interest),
    ((b.accounts #>> '{receivable,penalty}')::bigint, -b.penalty),
    ((b.accounts #>> '{income,penalty}')::bigint, b.penalty),
    ((b.accounts #>> '{receivable,fines}')::bigint, -b.fines),
    ((b.accounts #>> '{income,fines}')::bigint, b.fines)) AS v(account_id, amount)
WHERE v.amount <> 0
"""
RAW_BALANCES = """
UPDATE accounts a SET balance = a.balance + d.delta
FROM (SELECT account_id, sum(amount) AS delta FROM postings WHERE value_date = %(d)s
      AND entry_id >= %(first)s GROUP BY account_id) d
WHERE a.id = d.account_id
"""


async def raw(url: str, day: date) -> tuple[int, float]:
    import psycopg

    async with await psycopg.AsyncConnection.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        cursor = await conn.execute("SELECT last_value + 1 FROM journal_entries_id_seq")
        first = (await cursor.fetchone())[0]  # type: ignore[index]
        count = await (
            await conn.execute("SELECT count(*) FROM loan_night_projections WHERE accrual_date = %s", (day,))
        ).fetchone()
        began = time.perf_counter()
        async with conn.transaction():
            await conn.execute(RAW, {"d": day})
            await conn.execute(RAW_BALANCES, {"d": day, "first": first})
        elapsed = time.perf_counter() - began
    return int(count[0]), elapsed  # type: ignore[index]


async def main(loans: int, rounds: int, batch: int) -> dict[str, float]:
    with bench_database() as url:
        began = time.perf_counter()
        await setup(url, loans, nights=2 * rounds + 2)
        print(f"book: {loans} loans set up in {time.perf_counter() - began:.1f} s")
        ours_rates, raw_rates = [], []
        for n in range(rounds):
            day = FIRST + timedelta(days=2 * n)
            steps = [("ours", day), ("raw", day + timedelta(days=1))]
            for name, when in steps if n % 2 == 0 else reversed(steps):
                visited, seconds = await (ours(url, when, batch) if name == "ours" else raw(url, when))
                (ours_rates if name == "ours" else raw_rates).append(visited / seconds)
                print(
                    f"round {n + 1} {name:>4} {when}: {visited} loan-days in {seconds:.2f} s ="
                    f" {visited / seconds:,.0f}/s"
                )
        ours_best, raw_best = max(ours_rates), max(raw_rates)
        figures = {
            "loans": loans,
            "loan_days_per_s": round(ours_best),
            "raw_loan_days_per_s": round(raw_best),
            "cob_ratio": round(ours_best / raw_best, 3),
            "minutes_for_1m_loans": round(1_000_000 / ours_best / 60, 2),
        }
        print(f"best of {rounds}: ours {ours_best:,.0f}/s, raw {raw_best:,.0f}/s, ratio {ours_best / raw_best:.2f}")
        return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.loans, args.rounds, args.batch))))
