"""Bulk work in parts (issue 18): close of business in loan id ranges and commission distribution in event lanes,
taken side by side, pay exactly what one part would have paid."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from temporalio.testing import ActivityEnvironment

from activities.close_of_business import CloseOfBusinessActivities
from activities.commissions import CommissionActivities
from api.ingest.routes import signature_of
from contracts.commissions import DistributeInput, DistributeResult
from contracts.servicing import CobProgress, CobRange
from domain.partitions import id_ranges
from services.loan_book import LoanBook
from store.repositories import servicing
from tests.conftest import Stack
from tests.helpers import admin_token, bearer
from tests.origination_steps import TERMS
from tests.servicing_steps import funded_loan_of, open_date, product_with_terms, scalar
from tests.test_commissions import JSON_MAPPING, SECRET
from tests.test_wallets import ledger_is_whole

LEVELS = (10, 5, 2)  # percent, the referrer first


@given(st.integers(min_value=1, max_value=300), st.integers(min_value=0, max_value=(1 << 128) - 1))
def test_the_ranges_of_a_split_cover_every_id_once(count: int, value: int) -> None:
    ranges = id_ranges(count)
    assert len(ranges) == count
    assert ranges[0].after == uuid.UUID(int=0) and ranges[-1].through == uuid.UUID(int=(1 << 128) - 1)
    assert all(a.through == b.after for a, b in itertools.pairwise(ranges))
    if value:  # the nil UUID is never an id
        holding = [r for r in ranges if r.after < uuid.UUID(int=value) <= r.through]
        assert len(holding) == 1
    assert id_ranges(count) == ranges  # the same split every time it is asked (a replayed workflow asks again)


async def _ingest(http: httpx.AsyncClient, events: list[dict[str, Any]]) -> None:
    payload = json.dumps({"events": events}).encode()
    answer = await http.post(
        "/v1/ingest/lanes-eu/acme", content=payload, headers={"X-Signature": signature_of(SECRET, payload)}
    )
    assert answer.status_code == 200 and answer.json()["accepted"] == len(events), answer.text


async def test_lanes_distributed_side_by_side_pay_what_one_line_of_batches_pays(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    staff = bearer(admin)
    project = {
        "code": "lanes-eu",
        "name": "Lanes EU",
        "currency": "EUR",
        "points_per_unit": "1",
        "point_value": "1",
        "plan": {"levels": [str(p) for p in LEVELS]},
        "accrual": "period",  # no distributor of its own: the test runs the lanes
        "period": "month",
    }
    assert (await http.post("/v1/staff/projects", json=project, headers=staff)).status_code == 201
    added = await http.post(
        "/v1/staff/projects/lanes-eu/integrations",
        headers=staff,
        json={"name": "acme", "format": "json", "mapping": JSON_MAPPING, "secret": SECRET},
    )
    assert added.status_code == 201, added.text
    line: list[dict[str, Any]] = []  # root <- p1 <- p2 <- p3
    for n in range(4):
        body = {"project": "lanes-eu", "name": f"P{n}", "phone": f"+4477009406{n:02d}"}
        if line:
            body["sponsor_id"] = line[-1]["id"]
        created = await http.post("/v1/staff/partners", json=body, headers=staff)
        assert created.status_code == 201, created.text
        line.append(created.json())

    # 60 players, each referred by one of the line and depositing (i + 1) * 10.00; every fifth takes half back,
    # some in the same request as their deposit, the rest in a later one.
    expected = {p["id"]: 0 for p in line}
    sent: list[dict[str, Any]] = []
    later: list[dict[str, Any]] = []
    for i in range(60):
        referrer = i % 4
        player, cents = f"pl{i}", (i + 1) * 1_000
        sent.append(
            {
                "id": f"r{i}",
                "type": "signup",
                "ts": "2026-10-05T09:00:00Z",
                "player": {"id": player, "ref": line[referrer]["referral_code"]},
            }
        )
        sent.append(
            {
                "id": f"d{i}",
                "type": "dep",
                "ts": "2026-10-10T09:00:00Z",
                "player": {"id": player},
                "money": {"value": f"{cents / 100:.2f}", "ccy": "EUR"},
            }
        )
        net = cents
        if i % 5 == 0:
            refund = {
                "id": f"f{i}",
                "type": "rf",
                "ts": "2026-10-12T09:00:00Z",
                "player": {"id": player},
                "money": {"value": f"{cents / 200:.2f}", "ccy": "EUR"},
                "refund_of": f"d{i}",
            }
            (sent if i % 10 == 0 else later).append(refund)
            net -= cents // 2
        for level, percent in enumerate(LEVELS):
            if referrer - level >= 0:
                expected[line[referrer - level]["id"]] += net * percent // 100
    await _ingest(http, sent)
    await _ingest(http, later)

    async with clean.engine.connect() as conn:
        apart = await conn.exec_driver_sql(
            "SELECT count(*) FROM affiliate_event_queue q JOIN affiliate_events f ON f.id = q.event_id"
            " JOIN affiliate_events d ON d.client_event_id = f.reverses_client_event_id"
            " JOIN affiliate_event_queue dq ON dq.event_id = d.id WHERE dq.lane <> q.lane"
        )
        assert apart.scalar() == 0  # each refund waits in its deposit's lane
        lanes = await conn.exec_driver_sql("SELECT count(DISTINCT mod(lane, 3)) FROM affiliate_event_queue")
        assert lanes.scalar() == 3

    # Three lanes at once, in small batches, each in transactions of its own beside the others.
    acts = CommissionActivities(clean.sessions, clean.cipher, None)  # type: ignore[arg-type]

    async def lane(part: int) -> int:
        events = 0
        while True:
            done = await ActivityEnvironment().run(
                acts.distribute_commissions, DistributeInput(project="lanes-eu", limit=7, part=part, parts=3)
            )
            assert isinstance(done, DistributeResult)
            events += done.events
            if not done.more:
                return events

    taken = await asyncio.gather(*(lane(part) for part in range(3)))
    assert sum(taken) == 60 * 2 + 12 and all(taken)
    async with clean.engine.connect() as conn:
        paid = await conn.exec_driver_sql("SELECT partner_id::text, sum(amount) FROM commission_lines GROUP BY 1")
        assert {partner: int(total) for partner, total in paid.all()} == {k: v for k, v in expected.items() if v}
        waiting = await conn.exec_driver_sql("SELECT count(*) FROM affiliate_event_queue")
        assert waiting.scalar() == 0
    await ledger_is_whole(clean)


async def test_a_range_of_a_close_of_business_accrues_its_own_loans_only(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await product_with_terms(http, admin, "range-gb", "GBP", TERMS)
    loans = sorted([uuid.UUID((await funded_loan_of(http, product_id, f"+4477009207{n:02d}"))[1]) for n in range(3)])
    day = await open_date(http, admin)
    async with clean.sessions.begin() as session:
        assert await servicing.begin_cob(session, day, "cob-range-test") == "new"
    acts = CloseOfBusinessActivities(
        clean.sessions, LoanBook(clean.settings.market_timezone), None, timezone="UTC", allow_future=True, batch_size=1
    )
    # The middle loan's range: (the first loan's id, the middle one's]; batches of one loan, so a range that began
    # below its start would take the first loan before its own.
    middle = CobRange(business_date=day, after=str(loans[0]), through=str(loans[1]))
    done = await ActivityEnvironment().run(acts.cob_accrue_range, middle)
    assert isinstance(done, CobProgress) and done.loans == 1
    through = await scalar(clean, "SELECT array_agg(accrued_through = :d ORDER BY id) FROM loans", d=day)
    assert through == [False, True, False]
    assert await scalar(clean, "SELECT loans FROM cob_range_progress WHERE range_through = :r", r=loans[1]) == 1
