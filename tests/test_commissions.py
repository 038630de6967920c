"""Commissions end to end through the HTTP API: a 5-level project, a partner line, events from two client formats
(signed JSON and a staff-uploaded CSV), real-time credits to partners' wallets, a partial refund taking back its
share up the line, a period close with statements and notices, and a retroactive rate change previewed, approved
and posted (a clawback that takes a paid-out wallet below zero, which then pays nothing out), a second approval
that changes nothing, and a recalculation of unchanged terms that posts nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from api.ingest.routes import signature_of
from config.task_queues import Family
from contracts.commissions import CloseDueInput, close_schedule_id
from domain.affiliate.periods import period_of
from tests.conftest import Stack
from tests.helpers import admin_token, bearer, borrower_token
from tests.test_topups_and_payouts import settled
from tests.test_wallets import ledger_is_whole
from workflows.commissions import CommissionCloseDueWorkflow

PROJECT = {
    "code": "casino-eu",
    "name": "Casino EU",
    "currency": "EUR",
    "points_per_unit": "1",
    "point_value": "1",
    "plan": {"levels": ["10", "5", "3", "2", "1"]},
    "accrual": "realtime",
    "period": "month",
}
SECRET = "client-secret-0123456789"
JSON_MAPPING = {
    "fields": {
        "event_id": "id",
        "kind": "type",
        "user": "player.id",
        "amount": "money.value",
        "currency": "money.ccy",
        "occurred_at": "ts",
        "referral_code": "player.ref",
        "reverses": "refund_of",
    },
    "kinds": {"signup": "registration", "dep": "deposit", "rf": "refund"},
}
CSV_MAPPING = {
    "fields": {
        "event_id": "TxnId",
        "kind": "Type",
        "user": "Customer",
        "amount": "AmountCents",
        "occurred_at": "Date",
        "referral_code": "Promo",
    },
    "kinds": {"REG": "registration", "DEP": "deposit"},
    "amounts_in_minor_units": True,
    "date_format": "%d/%m/%Y %H:%M",
    "default_currency": "EUR",
}
NAMES = ("root", "ann", "bob", "cat", "dan", "eve")


async def wallet_of(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    found = [w for w in (await http.get("/v1/wallets", headers=bearer(token))).json()["data"] if w["currency"] == "EUR"]
    return found[0] if found else {"id": None, "balance": {"amount": 0}, "available": {"amount": 0}}


async def balances_become(http: httpx.AsyncClient, tokens: dict[str, str], expected: dict[str, int]) -> None:
    """Real-time credits land within seconds of ingestion."""
    for _ in range(100):
        found = {name: (await wallet_of(http, tokens[name]))["balance"]["amount"] for name in expected}
        if found == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"balances {found} never became {expected}")


async def until(http: httpx.AsyncClient, url: str, token: str, status: str) -> dict[str, Any]:
    for _ in range(100):
        view: dict[str, Any] = (await http.get(url, headers=bearer(token))).json()
        if view["status"] == status:
            return view
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never became {status}: {view}")


async def test_commissions_from_ingestion_to_a_retroactive_change(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    staff = bearer(admin)
    assert (await http.post("/v1/staff/projects", json=PROJECT, headers=staff)).status_code == 201
    ids: dict[str, str] = {}
    codes: dict[str, str] = {}
    for n, name in enumerate(NAMES):  # a line: root <- ann <- bob <- cat <- dan <- eve
        body = {"project": "casino-eu", "name": name, "phone": f"+4477009402{n:02d}"}
        if ids:
            body["sponsor_id"] = ids[NAMES[n - 1]]
        created = (await http.post("/v1/staff/partners", json=body, headers=staff)).json()
        ids[name], codes[name] = created["id"], created["referral_code"]
    tokens = {name: await borrower_token(http, f"+4477009402{n:02d}") for n, name in enumerate(NAMES)}
    for name, fmt, mapping in (("acme", "json", JSON_MAPPING), ("beta", "csv", CSV_MAPPING)):
        added = await http.post(
            "/v1/staff/projects/casino-eu/integrations",
            headers=staff,
            json={"name": name, "format": fmt, "mapping": mapping, "secret": SECRET},
        )
        assert added.status_code == 201, added.text

    # Acme pushes JSON: Eve's player deposits 100.00 EUR in October.
    pushed = json.dumps(
        {
            "events": [
                {
                    "id": "a1",
                    "type": "signup",
                    "ts": "2026-10-05T09:00:00Z",
                    "player": {"id": "p1", "ref": codes["eve"]},
                },
                {
                    "id": "a2",
                    "type": "dep",
                    "ts": "2026-10-10T09:00:00Z",
                    "player": {"id": "p1"},
                    "money": {"value": "100.00", "ccy": "EUR"},
                },
            ]
        }
    ).encode()
    answer = await http.post(
        "/v1/ingest/casino-eu/acme", content=pushed, headers={"X-Signature": signature_of(SECRET, pushed)}
    )
    assert answer.json()["accepted"] == 2, answer.text
    # Eve 10%, Dan 5%, Cat 3%, Bob 2%, Ann 1%; Root stands at level 6 of a 5-level plan and earns nothing.
    await balances_become(http, tokens, {"eve": 1_000, "dan": 500, "cat": 300, "bob": 200, "ann": 100, "root": 0})

    # Beta's CSV, uploaded by staff: Cat's customer deposits 50.00 EUR; one row is bad, and is refused alone.
    upload = (
        "TxnId;Type;Customer;AmountCents;Date;Promo\n"
        f"b1;REG;c9;;11/10/2026 08:00;{codes['cat']}\n"
        "b2;DEP;c9;5000;12/10/2026 08:00;\n"
        "b3;DEP;c9;50x;12/10/2026 08:00;\n"
    )
    csv_headers = {**staff, "Content-Type": "text/csv"}
    uploaded = await http.post(
        "/v1/staff/projects/casino-eu/integrations/beta/uploads", content=upload, headers=csv_headers
    )
    assert uploaded.status_code == 200, uploaded.text
    assert [(e["event_id"], e["status"], e["reason"]) for e in uploaded.json()["events"]] == [
        ("b1", "accepted", None),
        ("b2", "accepted", None),
        ("b3", "refused", "bad amount"),
    ]
    again = await http.post(
        "/v1/staff/projects/casino-eu/integrations/beta/uploads", content=upload, headers=csv_headers
    )
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 2)
    await balances_become(http, tokens, {"eve": 1_000, "dan": 500, "cat": 800, "bob": 450, "ann": 250, "root": 100})

    # A refund of 40.00 of Eve's player's deposit takes back 40% of what each partner earned on it.
    refund = json.dumps(
        {
            "id": "a3",
            "type": "rf",
            "ts": "2026-10-20T09:00:00Z",
            "player": {"id": "p1"},
            "money": {"value": "40.00", "ccy": "EUR"},
            "refund_of": "a2",
        }
    ).encode()
    answer = await http.post(
        "/v1/ingest/casino-eu/acme", content=refund, headers={"X-Signature": signature_of(SECRET, refund)}
    )
    assert answer.json()["accepted"] == 1
    await balances_become(http, tokens, {"eve": 600, "dan": 300, "cat": 680, "bob": 370, "ann": 210, "root": 100})

    # October closes: statements per partner, each told by SMS; closing it again changes nothing.
    closed = await http.post("/v1/staff/projects/casino-eu/periods/2026-10/close", headers=staff)
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["statements"], closed.json()["notified"]) == ("closed", 6, 6)
    again_closed = await http.post("/v1/staff/projects/casino-eu/periods/2026-10/close", headers=staff)
    assert again_closed.json()["status"] == "closed" and again_closed.json()["statements"] == 6
    not_over = await http.post("/v1/staff/projects/casino-eu/periods/2099-01/close", headers=staff)
    assert not_over.status_code == 409
    assert (await http.post("/v1/staff/projects/casino-eu/periods/2026-W40/close", headers=staff)).status_code == 422
    statements = (await http.get("/v1/partners/me/statements", headers=bearer(tokens["eve"]))).json()["data"]
    assert [(s["period"], s["status"], s["commissions"], s["reversals"], s["total"]) for s in statements] == [
        ("2026-10", "closed", 1_000, -400, 600)
    ]
    assert any("for 2026-10" in m.message.body and "€6.00" in m.message.body for m in clean.sms.sent)

    # Bob takes all his money out.
    bob_wallet = await wallet_of(http, tokens["bob"])
    payout = {"wallet": bob_wallet["id"], "amount": {"amount": 370, "currency": "EUR"}, "destination": "ba_bob"}
    created = await http.post("/v1/payouts", json=payout, headers=bearer(tokens["bob"]))
    assert created.status_code == 201, created.text
    assert (await settled(http, tokens["bob"], "payouts", created.json()["id"]))["status"] == "succeeded"

    # Dan's level-2 share goes to 8% from October 1st, after October was paid and closed. The plan shares 21% in
    # all: Eve 10 + Dan 8 + Cat 3 leaves nothing for Bob and Ann on Eve's player's events.
    terms = {"project": "casino-eu", "valid_from": "2026-10-01T00:00:00Z", "levels": ["10", "8", "3"]}
    recorded = await http.post(f"/v1/staff/partners/{ids['dan']}/terms", json=terms, headers=staff)
    assert recorded.status_code == 201, recorded.text
    preview_url = recorded.json()["preview"]
    preview = await until(http, preview_url, admin, "previewed")
    assert {(d["partner_id"], d["period"], d["paid"], d["should_be"]) for d in preview["differences"]} == {
        (ids["dan"], "2026-10", 300, 480),
        (ids["bob"], "2026-10", 120, 0),
        (ids["ann"], "2026-10", 60, 0),
    }
    assert preview["total"] == 0 and preview["events"] == 3  # the registration, the deposit, the refund
    await balances_become(http, tokens, {"dan": 300, "bob": 0})  # nothing moves before approval

    approved = await http.post(f"{preview_url}/approve", headers=staff)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "posted"
    await balances_become(http, tokens, {"eve": 600, "dan": 480, "cat": 680, "bob": -120, "ann": 150, "root": 100})
    twice = await http.post(f"{preview_url}/approve", headers=staff)
    assert twice.status_code == 409
    await balances_become(http, tokens, {"dan": 480, "bob": -120, "ann": 150})
    posted = (await http.get(preview_url, headers=staff)).json()
    assert posted["status"] == "posted" and posted["posted_period"] == "2026-11"

    # The adjustments are on November's statement (October stays as it closed).
    dans = (await http.get("/v1/partners/me/statements", headers=bearer(tokens["dan"]))).json()["data"]
    assert [(s["period"], s["status"], s["adjustments"], s["total"]) for s in dans] == [
        ("2026-11", "open", 180, 180),
        ("2026-10", "closed", 0, 300),
    ]

    # Bob's wallet is below zero: it pays nothing out until it is positive again.
    refused = await http.post(
        "/v1/payouts", json=payout | {"amount": {"amount": 1, "currency": "EUR"}}, headers=bearer(tokens["bob"])
    )
    assert refused.status_code == 422 and refused.json()["code"] == "insufficient_funds"

    # The same terms recorded again change nothing: the recalculation finds no difference and posts nothing.
    same = await http.post(f"/v1/staff/partners/{ids['dan']}/terms", json=terms, headers=staff)
    unchanged = await until(http, same.json()["preview"], admin, "unchanged")
    assert unchanged["differences"] == [] and unchanged["entry_id"] is None
    await balances_become(http, tokens, {"eve": 600, "dan": 480, "cat": 680, "bob": -120, "ann": 150, "root": 100})
    await ledger_is_whole(clean)


async def test_a_partner_moved_to_another_sponsor_from_a_past_date(http: httpx.AsyncClient, clean: Stack) -> None:
    """Events before the move stay with the old line; those after it, paid already, are recalculated, and new ones
    go up the new line at once."""
    staff = bearer(await admin_token(http, clean.settings))
    project = PROJECT | {"code": "poker", "plan": {"levels": ["10", "5", "3"]}}
    assert (await http.post("/v1/staff/projects", json=project, headers=staff)).status_code == 201
    ids, codes = {}, {}
    for n, (name, sponsor) in enumerate((("ann", None), ("bea", None), ("cal", "ann"), ("dot", "cal"))):
        body = {"project": "poker", "name": name, "phone": f"+4477009403{n:02d}"}
        if sponsor:
            body["sponsor_id"] = ids[sponsor]
        created = (await http.post("/v1/staff/partners", json=body, headers=staff)).json()
        ids[name], codes[name] = created["id"], created["referral_code"]
    tokens = {name: await borrower_token(http, f"+4477009403{n:02d}") for n, name in enumerate(ids)}
    added = await http.post(
        "/v1/staff/projects/poker/integrations",
        headers=staff,
        json={"name": "acme", "format": "json", "mapping": JSON_MAPPING, "secret": SECRET},
    )
    assert added.status_code == 201

    async def push(*events: dict[str, Any]) -> None:
        body = json.dumps(list(events)).encode()
        answer = await http.post(
            "/v1/ingest/poker/acme", content=body, headers={"X-Signature": signature_of(SECRET, body)}
        )
        assert answer.json()["accepted"] == len(events), answer.text

    def deposit(event_id: str, when: str, value: str) -> dict[str, Any]:
        return {
            "id": event_id,
            "type": "dep",
            "ts": when,
            "player": {"id": "p1"},
            "money": {"value": value, "ccy": "EUR"},
        }

    await push(
        {"id": "r1", "type": "signup", "ts": "2026-09-01T00:00:00Z", "player": {"id": "p1", "ref": codes["dot"]}},
        deposit("d1", "2026-10-10T00:00:00Z", "100.00"),
    )
    await balances_become(http, tokens, {"dot": 1_000, "cal": 500, "ann": 300, "bea": 0})

    refused = await http.post(
        f"/v1/staff/partners/{ids['cal']}/sponsor",
        headers=staff,
        json={"project": "poker", "sponsor_id": ids["dot"], "valid_from": "2026-10-01T00:00:00Z"},
    )
    assert refused.status_code == 422  # not under its own network
    moved = await http.post(
        f"/v1/staff/partners/{ids['cal']}/sponsor",
        headers=staff,
        json={"project": "poker", "sponsor_id": ids["bea"], "valid_from": "2026-10-01T00:00:00Z"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["moved"] == 2 and moved.json()["partner"]["upline"] == [ids["bea"]]
    preview = await until(http, moved.json()["preview"], staff["Authorization"].split()[1], "previewed")
    assert preview["cause"] == "move"
    assert {(d["partner_id"], d["paid"], d["should_be"]) for d in preview["differences"]} == {
        (ids["ann"], 300, 0),
        (ids["bea"], 0, 300),
    }
    earlier = await http.post(
        f"/v1/staff/partners/{ids['dot']}/sponsor",
        headers=staff,
        json={"project": "poker", "sponsor_id": ids["ann"], "valid_from": "2026-09-15T00:00:00Z"},
    )
    assert earlier.status_code == 422  # a move dated before the later one in its network

    approved = await http.post(f"{moved.json()['preview']}/approve", headers=staff)
    assert approved.json()["status"] == "posted", approved.text
    await balances_become(http, tokens, {"dot": 1_000, "cal": 500, "ann": 0, "bea": 300})

    # New events follow each one's own time: after the move up Bea's line, before it up Ann's.
    await push(deposit("d2", "2026-11-02T00:00:00Z", "10.00"), deposit("d3", "2026-09-20T00:00:00Z", "10.00"))
    await balances_become(http, tokens, {"dot": 1_200, "cal": 600, "ann": 30, "bea": 330})
    await ledger_is_whole(clean)


async def test_each_project_has_a_schedule_that_closes_the_period_just_ended(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    staff = bearer(await admin_token(http, clean.settings))
    weekly = PROJECT | {"code": "bingo", "accrual": "period", "period": "week"}
    assert (await http.post("/v1/staff/projects", json=weekly, headers=staff)).status_code == 201
    schedule = await clean.temporal.get_schedule_handle(close_schedule_id("bingo")).describe()
    [calendar] = schedule.schedule.spec.calendars
    assert calendar.day_of_week[0].start == 1 and calendar.hour[0].start == 1  # Mondays, 01:00 UTC
    # What the Schedule starts: the close of the week that just ended, under that period's own id.
    ended = period_of(period_of(datetime.now(UTC), "week").starts_at - timedelta(seconds=1), "week").key
    result = await clean.temporal.execute_workflow(
        CommissionCloseDueWorkflow.run,
        CloseDueInput(project="bingo"),
        id="close-due-bingo",
        task_queue=clean.settings.queue_for(Family.COMMISSIONS),
    )
    assert (result.period, result.status) == (ended, "closed")
    again = await http.post(f"/v1/staff/projects/bingo/periods/{ended}/close", headers=staff)
    assert again.json()["status"] == "closed"  # the same run, read again
    await clean.temporal.get_schedule_handle(close_schedule_id("bingo")).delete()


async def test_a_project_that_pays_out_at_close(http: httpx.AsyncClient, clean: Stack) -> None:
    """Partners who gave a payout destination are paid their whole commission wallet when the period closes."""
    staff = bearer(await admin_token(http, clean.settings))
    project = PROJECT | {"code": "slots", "plan": {"levels": ["10", "5", "3"]}, "payouts_at_close": True}
    assert (await http.post("/v1/staff/projects", json=project, headers=staff)).json()["payouts_at_close"] is True
    ann = (
        await http.post(
            "/v1/staff/partners", headers=staff, json={"project": "slots", "name": "ann", "phone": "+447700940400"}
        )
    ).json()
    bob = (
        await http.post(
            "/v1/staff/partners",
            headers=staff,
            json={"project": "slots", "name": "bob", "phone": "+447700940401", "sponsor_id": ann["id"]},
        )
    ).json()
    tokens = {"ann": await borrower_token(http, "+447700940400"), "bob": await borrower_token(http, "+447700940401")}
    given = await http.put(
        "/v1/partners/me/payout-destination", json={"destination": "ba_bob"}, headers=bearer(tokens["bob"])
    )
    assert given.status_code == 200, given.text
    added = await http.post(
        "/v1/staff/projects/slots/integrations",
        headers=staff,
        json={"name": "acme", "format": "json", "mapping": JSON_MAPPING, "secret": SECRET},
    )
    assert added.status_code == 201
    body = json.dumps(
        [
            {
                "id": "s1",
                "type": "signup",
                "ts": "2026-10-01T00:00:00Z",
                "player": {"id": "q1", "ref": bob["referral_code"]},
            },
            {
                "id": "s2",
                "type": "dep",
                "ts": "2026-10-02T00:00:00Z",
                "player": {"id": "q1"},
                "money": {"value": "100.00", "ccy": "EUR"},
            },
        ]
    ).encode()
    assert (
        await http.post("/v1/ingest/slots/acme", content=body, headers={"X-Signature": signature_of(SECRET, body)})
    ).json()["accepted"] == 2
    await balances_become(http, tokens, {"bob": 1_000, "ann": 500})

    closed = await http.post("/v1/staff/projects/slots/periods/2026-10/close", headers=staff)
    assert (closed.json()["statements"], closed.json()["payouts"]) == (2, 1), closed.text
    await balances_become(http, tokens, {"bob": 0, "ann": 500})  # Ann gave no destination: her money stays
    [(_, paid)] = [call for call in clean.payments.calls if call[0] == "payout"]
    assert (paid.amount, paid.currency, paid.destination) == (1_000, "EUR", "ba_bob")
    await ledger_is_whole(clean)
