"""Commission distribution and recalculation on the embedded PostgreSQL, against the same database work done with
the fewest raw statements.

    python bench/commissions.py [--events 1000000] [--partners 10000] [--batch 5000] [--ingest 20000]

The network: one project with a 7-level plan, `--partners` partners in a tree where each sponsors four (so the
deepest lines are eight long and every event pays seven levels or fewer), every partner with a commission wallet.
The events: `--events` deposits over one month, each by a user referred by a random partner (200,000 of them inside
one partner's network, the rest outside it), already ingested.

- Distribution: the `distribute_commissions` activity exactly as the distributor workflow runs it (batches of
  `--batch` events: take and mark them, compute the lines with the domain rules, COPY the lines, post one ledger
  entry per batch crediting each partner's net), until no event waits. `events_per_s` is that rate.
- Baseline, in the same run: the same commission lines written as ledger postings with COPY (one posting per line
  and one balancing expense posting per batch-sized entry, so the ledger's balance check passes), then one UPDATE of
  the same wallet balances from their aggregate. `distribution_ratio` = ours / raw in events per second.
- Recalculation: new terms from the first of the month for a partner near the root whose network brought 200,000
  of the month's events (a fifth of them when `--events` is under a million); `recalc_s` is the `compute_recalculation` activity (recompute every touched event
  under the terms known now, against what was paid, and store the preview), `recalc_post_s` the approval's
  `post_recalculation` (recompute under the project's lock, then post the adjustments). A second recompute after
  posting must find nothing (checked).
- Ingestion (`--ingest` events, 0 to skip): through `POST /v1/ingest/...` in requests of 1,000 signed events, the
  way a client pushes them; reported apart (`ingest_events_per_s`), since distribution starts from stored events.

The last line is one JSON object with `events_per_s`, `distribution_ratio` and `recalc_s` among others.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import text
from temporalio.testing import ActivityEnvironment

from activities.commissions import CommissionActivities
from bench.stack import bench_database
from config import Settings
from contracts.commissions import ApprovalRequest, DistributeInput, DistributeResult, RecalculationRef
from store.db import make_engine, make_session_factory
from store.pii import PiiCipher
from store.repositories import affiliate, commissions

MONTH = datetime(2026, 10, 1, tzinfo=UTC)
LEVELS = [Decimal(s) / 100 for s in ("10", "5", "3", "2", "1", "1", "0.5")]
FAN_OUT = 4
RECALC_TARGET = 200_000
PII_KEY = Settings(env="dev").pii_key


async def setup(url: str, partners: int, events: int) -> tuple[affiliate.Project, uuid.UUID]:
    engine = make_engine(url, pool_size=2)
    sessions = make_session_factory(engine)
    async with sessions.begin() as s:
        project = await affiliate.add_project(
            s,
            code="bench",
            name="Bench",
            currency="EUR",
            revenue="deposits",
            registration_amount=0,
            level_shares=LEVELS,
            points_per_unit=Decimal(1),
            point_value=Decimal(1),
            accrual="realtime",
            period="month",
        )
        assert project is not None
        # Partners 1..N; partner n's sponsor is (n - 2) // FAN_OUT + 1; paths built level by level.
        await s.execute(
            text(
                "INSERT INTO users (id, phone_lookup, phone_encrypted, kind, created_at)"
                " SELECT md5('u' || g)::uuid, decode(md5('u' || g), 'hex'), '\\x00', 'partner', now()"
                " FROM generate_series(1, :n) g"
            ),
            {"n": partners},
        )
        await s.execute(
            text(
                "INSERT INTO partners (id, project_id, user_id, sponsor_id, name, referral_code, depth, path)"
                " SELECT md5('p1')::uuid, :project, md5('u1')::uuid, NULL, 'p1', 'P1', 0, ARRAY[md5('p1')::uuid]"
            ),
            {"project": project.id},
        )
        depth, first, last = 0, 1, 1
        while last < partners:
            lo, hi = last + 1, min(partners, last + (last - first + 1) * FAN_OUT)
            depth += 1
            await s.execute(
                text(
                    "INSERT INTO partners (id, project_id, user_id, sponsor_id, name, referral_code, depth, path)"
                    " SELECT md5('p' || g)::uuid, :project, md5('u' || g)::uuid, s.id, 'p' || g, 'P' || g, :depth,"
                    " s.path || md5('p' || g)::uuid FROM generate_series(CAST(:lo AS int), CAST(:hi AS int)) g"
                    " JOIN partners s ON s.id = md5('p' || ((g - 2) / :fan + 1))::uuid"
                ),
                {"project": project.id, "depth": depth, "lo": lo, "hi": hi, "fan": FAN_OUT},
            )
            first, last = lo, hi
        await s.execute(
            text(
                "INSERT INTO partner_paths (partner_id, valid_from, path)"
                " SELECT id, '1970-01-01 00:00:00+00', path FROM partners"
            )
        )
        partner_ids = [r for (r,) in await s.execute(text("SELECT id FROM partners"))]
        await commissions.commission_accounts(s, partner_ids, "EUR")
        integration = await affiliate.add_integration(
            s,
            project_id=project.id,
            name="bench",
            format="json",
            mapping={
                "fields": {
                    "event_id": "id",
                    "kind": "type",
                    "user": "user",
                    "amount": "amount",
                    "occurred_at": "at",
                    "referral_code": "ref",
                },
                "amounts_in_minor_units": True,
                "default_currency": "EUR",
            },
            secret_encrypted=PiiCipher(PII_KEY).encrypt("bench-secret-0123456789"),
        )
        assert integration is not None
        month_seconds = int(((MONTH + timedelta(days=31)) - MONTH).total_seconds())
        # The first `touched` events come from users referred inside the network of partner p2 (a child of the
        # root), the others from outside it: the recalculation of p2's terms touches exactly `touched` events.
        touched = min(RECALC_TARGET, events // 5)
        for side, test in (
            ("inside", "p.path @> ARRAY[md5('p2')::uuid]"),
            ("outside", "NOT p.path @> ARRAY[md5('p2')::uuid]"),
        ):
            await s.execute(
                text(
                    f"CREATE TEMP TABLE {side} AS SELECT row_number() OVER (ORDER BY p.id) AS n, p.id"
                    f" FROM partners p WHERE {test}"
                )
            )
        await s.execute(
            text(
                "INSERT INTO affiliate_events (project_id, integration_id, client_event_id, kind, user_ref,"
                " partner_id, amount, currency, occurred_at)"
                " SELECT :project, :integration, 'e' || g, 'deposit', 'user' || g,"
                " CASE WHEN g <= :touched THEN (ARRAY(SELECT id FROM inside ORDER BY n))[1 + r % (SELECT count(*) FROM inside)]"
                " ELSE (ARRAY(SELECT id FROM outside ORDER BY n))[1 + r % (SELECT count(*) FROM outside)] END,"
                " 1000 + (hashtext('a' || g)::bigint & 2147483647) % 99000, 'EUR',"
                " CAST(:month AS timestamptz) + ((hashtext('t' || g)::bigint & 2147483647) % :seconds) * interval '1 s'"
                " FROM generate_series(1, :n) g, LATERAL (SELECT hashtext('r' || g)::bigint & 2147483647 AS r) h"
            ),
            {
                "project": project.id,
                "integration": integration.id,
                "month": MONTH,
                "seconds": month_seconds,
                "n": events,
                "touched": touched,
            },
        )
        await s.execute(
            text(
                "INSERT INTO affiliate_event_queue (project_id, event_id, occurred_at, lane)"
                " SELECT project_id, id, occurred_at,"
                " affiliate_event_lane(integration_id, client_event_id, reverses_client_event_id) FROM affiliate_events"
            )
        )
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
    await engine.dispose()
    return project, integration.id


async def distribute_all(url: str, batch: int) -> tuple[int, int, float]:
    engine = make_engine(url, pool_size=2)
    acts = CommissionActivities(make_session_factory(engine), PiiCipher(PII_KEY), None)  # type: ignore[arg-type]
    env = ActivityEnvironment()
    events = lines = 0
    began = time.perf_counter()
    while True:
        done = await env.run(acts.distribute_commissions, DistributeInput(project="bench", limit=batch))
        assert isinstance(done, DistributeResult)
        events, lines = events + done.events, lines + done.lines
        if not done.more:
            break
    elapsed = time.perf_counter() - began
    await engine.dispose()
    return events, lines, elapsed


async def raw(url: str, batch: int) -> tuple[int, float]:
    """The same lines as postings (read before the clock starts), COPY, then one UPDATE from their aggregate."""
    async with await psycopg.AsyncConnection.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        cursor = await conn.execute(
            "SELECT l.event_id, w.account_id, l.amount FROM commission_lines l JOIN partners p ON p.id = l.partner_id"
            " JOIN wallets w ON w.owner_id = p.user_id AND w.type_code = 'commissions' ORDER BY l.event_id"
        )
        rows = await cursor.fetchall()
        cursor = await conn.execute("SELECT id FROM accounts WHERE code LIKE 'house:commission_expense:EUR:%'")
        expense = (await cursor.fetchone())[0]  # type: ignore[index]
        events = len({event_id for event_id, _, _ in rows})
        # Entries of `batch` events, as ours: each event's lines, and one balancing expense posting per entry.
        chunks, current, total, seen = [], [], 0, 0
        last_event = None
        for event_id, account, amount in rows:
            if event_id != last_event:
                seen, last_event = seen + 1, event_id
                if seen > batch:
                    chunks.append((current, total))
                    current, total, seen = [], 0, 1
            current.append((account, amount))
            total += amount
        chunks.append((current, total))
        cursor = await conn.execute(
            "SELECT array_agg(nextval('journal_entries_id_seq')) FROM generate_series(1, %s)", (len(chunks),)
        )
        entry_ids = (await cursor.fetchone())[0]  # type: ignore[index]
        day = MONTH.date().isoformat()
        entries = "".join(f"{e}\traw:{e}\t\\\\x00\traw\t{day}\n" for e in entry_ids)
        postings = "".join(
            "".join(f"{e}\t{account}\t{amount}\tEUR\t{day}\n" for account, amount in lines)
            + f"{e}\t{expense}\t{-total}\tEUR\t{day}\n"
            for e, (lines, total) in zip(entry_ids, chunks, strict=True)
        )
        began = time.perf_counter()
        async with conn.transaction():
            async with conn.cursor() as copy_cursor:
                async with copy_cursor.copy(
                    "COPY journal_entries (id, idempotency_key, content_hash, kind, value_date) FROM STDIN"
                ) as copy:
                    await copy.write(entries)
                async with copy_cursor.copy(
                    "COPY postings (entry_id, account_id, amount, currency, value_date) FROM STDIN"
                ) as copy:
                    await copy.write(postings)
            await conn.execute(
                "UPDATE accounts a SET balance = a.balance + d.delta FROM (SELECT account_id, sum(amount) AS delta"
                " FROM postings WHERE entry_id = ANY(%s) GROUP BY account_id) d WHERE a.id = d.account_id",
                (entry_ids,),
            )
        elapsed = time.perf_counter() - began
    return events, elapsed


async def recalculate(url: str, project: affiliate.Project) -> dict[str, float]:
    engine = make_engine(url, pool_size=2)
    sessions = make_session_factory(engine)
    async with sessions.begin() as s:
        partner_id = (await s.execute(text("SELECT md5('p2')::uuid"))).scalar_one()
        touched = (
            await s.execute(
                text(
                    "SELECT count(*) FROM affiliate_events e JOIN partners r ON r.id = e.partner_id"
                    " WHERE r.path @> ARRAY[CAST(:p AS uuid)]"
                ),
                {"p": partner_id},
            )
        ).scalar_one()
        partner = await affiliate.partner(s, partner_id)
        assert partner is not None
        # Levels 1 and 2 richer, the upper ones poorer, within the plan's total.
        shares = [Decimal(s) / 100 for s in ("8", "7", "4", "2", "1", "0.5", "0")]
        terms_id = await affiliate.add_terms(
            s,
            partner_id=partner_id,
            level_shares=shares,
            valid_from=MONTH,
            valid_to=MONTH + timedelta(days=31),
            recorded_by=None,
        )
        recalc_id = await commissions.add_recalculation(
            s,
            project_id=project.id,
            partner_id=partner_id,
            terms_id=terms_id,
            valid_from=MONTH,
            valid_to=MONTH + timedelta(days=31),
            requested_by=None,
        )
    acts = CommissionActivities(sessions, PiiCipher(PII_KEY), None)  # type: ignore[arg-type]
    env = ActivityEnvironment()
    began = time.perf_counter()
    preview = await env.run(acts.compute_recalculation, RecalculationRef(recalculation_id=recalc_id))
    recalc_s = time.perf_counter() - began
    began = time.perf_counter()
    posted = await env.run(
        acts.post_recalculation, ApprovalRequest(recalculation_id=recalc_id, staff_id=str(uuid.uuid4()))
    )
    post_s = time.perf_counter() - began
    assert posted.status == "posted", posted
    async with sessions.begin() as s:  # posted, a second look finds nothing left to correct
        second = await commissions.add_recalculation(
            s,
            project_id=project.id,
            partner_id=partner_id,
            terms_id=terms_id,
            valid_from=MONTH,
            valid_to=MONTH + timedelta(days=31),
            requested_by=None,
        )
    again = await env.run(acts.compute_recalculation, RecalculationRef(recalculation_id=second))
    assert again.status == "unchanged", again
    await engine.dispose()
    print(
        f"recalculation: partner at depth {partner.depth}, {touched:,} events in its network, preview of "
        f"{preview.events:,} events ({preview.total} net) in {recalc_s:.1f} s, posted in {post_s:.1f} s"
    )
    return {"recalc_events": preview.events, "recalc_s": round(recalc_s, 2), "recalc_post_s": round(post_s, 2)}


async def ingest(url: str, project: affiliate.Project, count: int, partners: int) -> float:
    """Signed pushes of 1,000 events each through the API route, on a project of its own so distribution's
    figures are untouched."""
    import httpx

    from api.app import create_app
    from api.ingest.routes import signature_of
    from api.resources import AppResources

    settings = Settings(env="dev", database_url=url, pii_key=PII_KEY)
    engine = make_engine(url, pool_size=2)

    async def no_temporal():  # type: ignore[no-untyped-def]
        raise RuntimeError("not needed: the bench project is not real-time here")

    resources = AppResources(settings, engine, make_session_factory(engine), PiiCipher(PII_KEY), no_temporal)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE projects SET accrual = 'period' WHERE code = 'bench'"))
        await conn.execute(
            text(
                "INSERT INTO referrals (project_id, user_ref, partner_id) SELECT :p, 'user' || g,"
                " md5('p' || (1 + g % :partners))::uuid FROM generate_series(0, :n) g"
            ),
            {"p": project.id, "n": count, "partners": partners},
        )
    app = create_app(settings, resources=resources)
    elapsed = 0.0
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        for start in range(0, count, 1_000):
            body = json.dumps(
                [
                    {
                        "id": f"i{n}",
                        "type": "deposit",
                        "user": f"user{n}",
                        "amount": 5_000,
                        "at": (MONTH + timedelta(minutes=n)).isoformat(),
                    }
                    for n in range(start, min(count, start + 1_000))
                ]
            ).encode()
            began = time.perf_counter()
            answer = await http.post(
                "/v1/ingest/bench/bench",
                content=body,
                headers={"X-Signature": signature_of("bench-secret-0123456789", body)},
            )
            elapsed += time.perf_counter() - began
            assert answer.status_code == 200, answer.text
    await engine.dispose()
    return count / elapsed if elapsed else 0.0


async def main(events: int, partners: int, batch: int, ingest_count: int) -> dict[str, float]:
    with bench_database() as url:
        began = time.perf_counter()
        project, _ = await setup(url, partners, events)
        print(f"network: {partners:,} partners, {events:,} events set up in {time.perf_counter() - began:.1f} s")
        taken, lines, ours_s = await distribute_all(url, batch)
        print(f"ours: {taken:,} events, {lines:,} lines distributed in {ours_s:.1f} s = {taken / ours_s:,.0f} events/s")
        raw_events, raw_s = await raw(url, batch)
        print(f"raw:  the same {lines:,} postings in {raw_s:.1f} s = {raw_events / raw_s:,.0f} events/s")
        figures: dict[str, float] = {
            "events": taken,
            "partners": partners,
            "lines": lines,
            "events_per_s": round(taken / ours_s),
            "raw_events_per_s": round(raw_events / raw_s),
            "distribution_ratio": round((taken / ours_s) / (raw_events / raw_s), 3),
        }
        figures |= await recalculate(url, project)
        if ingest_count:
            rate = await ingest(url, project, ingest_count, partners)
            print(f"ingestion: {ingest_count:,} events through the API at {rate:,.0f} events/s")
            figures["ingest_events_per_s"] = round(rate)
        return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--ingest", type=int, default=20_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.events, args.partners, args.batch, args.ingest))))
