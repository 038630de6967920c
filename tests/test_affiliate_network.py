"""The affiliate network's configuration through the HTTP API: a project with its plan, a partner tree, partners'
terms recorded twice in time, and partners seeing their own network; then the stored tree and terms feeding the
distribution rules."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import text

from api.ingest.routes import signature_of
from domain.affiliate.distribution import RevenueEvent, distribute
from domain.affiliate.plans import CommissionPlan
from domain.affiliate.terms import terms_in_force
from store.repositories import affiliate
from tests.conftest import Stack
from tests.helpers import admin_token, bearer, borrower_token

PROJECT = {
    "code": "casino-eu",
    "name": "Casino EU",
    "currency": "EUR",
    "points_per_unit": "1",
    "point_value": "1",
    "plan": {"levels": ["10", "5", "3", "2", "1"]},
    "accrual": "realtime",
}


async def test_a_project_a_partner_tree_and_terms(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    created = await http.post("/v1/staff/projects", json=PROJECT, headers=bearer(admin))
    assert created.status_code == 201, created.text
    assert created.json()["levels"] == ["10", "5", "3", "2", "1"]
    assert (await http.post("/v1/staff/projects", json=PROJECT, headers=bearer(admin))).status_code == 409
    eight = PROJECT | {"code": "too-deep", "plan": {"levels": ["1"] * 8}}
    assert (await http.post("/v1/staff/projects", json=eight, headers=bearer(admin))).status_code == 422

    ids: list[str] = []
    for n, name in enumerate(("root", "ann", "bob", "cat")):
        body = {"project": "casino-eu", "name": name, "phone": f"+4477009400{n:02d}"}
        if ids:
            body["sponsor_id"] = ids[-1]
        response = await http.post("/v1/staff/partners", json=body, headers=bearer(admin))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    cat = response.json()
    assert cat["depth"] == 3 and cat["upline"] == list(reversed(ids[:3]))
    stranger = {"project": "casino-eu", "name": "x", "phone": "+447700940099", "sponsor_id": str(uuid.uuid4())}
    assert (await http.post("/v1/staff/partners", json=stranger, headers=bearer(admin))).status_code == 422

    # Ann sees herself and the two below her.
    ann = await borrower_token(http, "+447700940001")
    me = (await http.get("/v1/partners/me", headers=bearer(ann))).json()["data"]
    assert [p["name"] for p in me] == ["ann"]
    network = (await http.get("/v1/partners/me/network", headers=bearer(ann))).json()["data"]
    assert [m["name"] for m in network[0]["members"]] == ["bob", "cat"]

    # Bob's level-1 share cut to 4% from a date; what he earns on a deposit by his own referral follows it.
    since = datetime(2026, 6, 1, tzinfo=UTC)
    terms = {"project": "casino-eu", "valid_from": since.isoformat(), "levels": ["4", "5", "3"]}
    url = f"/v1/staff/partners/{ids[2]}/terms"
    assert (await http.post(url, json=terms, headers=bearer(admin))).status_code == 201
    greedy = terms | {"levels": ["30"]}
    assert (await http.post(url, json=greedy, headers=bearer(admin))).status_code == 422
    base = {
        "project": "casino-eu",
        "valid_from": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        "levels": ["10", "5", "3", "2", "1"],
    }
    for partner_id in ids:
        assert (
            await http.post(f"/v1/staff/partners/{partner_id}/terms", json=base, headers=bearer(admin))
        ).status_code == 201

    async with clean.sessions() as session:
        bob = await affiliate.partner(session, uuid.UUID(ids[2]))
        assert bob is not None
        upline = [str(p) for p in affiliate.upline(bob)]
        history = await affiliate.terms_history(session, partner_ids=[uuid.UUID(p) for p in ids])
    plan = CommissionPlan(tuple(Decimal(s) / 100 for s in ("10", "5", "3", "2", "1")), Decimal(1), Decimal(1))
    now = datetime.now(UTC) + timedelta(days=1)

    def terms_of(partner_id: str, at: datetime):  # type: ignore[no-untyped-def]
        return terms_in_force([t for t in history if t.partner_id == partner_id], at, now)

    # The later record (the base terms, recorded after the cut) now covers Bob's June too: latest record wins.
    lines = distribute(RevenueEvent("dep-1", 100_000, since + timedelta(days=3)), upline, plan, terms_of)
    assert [(line.partner_id, line.level, line.amount) for line in lines] == [
        (ids[2], 1, 10_000),
        (ids[1], 2, 5_000),
        (ids[0], 3, 3_000),
    ]
    before_base = min(
        t.recorded_at for t in history if t.level_shares == (Decimal("0.04"), Decimal("0.05"), Decimal("0.03"))
    )

    def as_known_then(partner_id: str, at: datetime):  # type: ignore[no-untyped-def]
        return terms_in_force([t for t in history if t.partner_id == partner_id], at, before_base)

    then = distribute(RevenueEvent("dep-1", 100_000, since + timedelta(days=3)), upline, plan, as_known_then)
    # Only Bob had terms then; the others earned the plan's shares.
    assert [(line.partner_id, line.amount) for line in then] == [(ids[2], 4_000), (ids[1], 5_000), (ids[0], 3_000)]


async def test_a_client_platform_sends_its_own_json_and_each_event_is_taken_once(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    assert (await http.post("/v1/staff/projects", json=PROJECT, headers=bearer(admin))).status_code == 201
    partner = (
        await http.post(
            "/v1/staff/partners",
            json={"project": "casino-eu", "name": "ann", "phone": "+447700940101"},
            headers=bearer(admin),
        )
    ).json()
    mapping = {
        "fields": {
            "event_id": "id",
            "kind": "type",
            "user": "player.id",
            "amount": "money.value",
            "currency": "money.ccy",
            "occurred_at": "ts",
            "referral_code": "player.ref",
        },
        "kinds": {"signup": "registration", "dep": "deposit"},
        "amount_scale": 2,
    }
    secret = "client-secret-0123456789"
    created = await http.post(
        "/v1/staff/projects/casino-eu/integrations",
        headers=bearer(admin),
        json={"name": "acme-json", "format": "json", "mapping": mapping, "secret": secret},
    )
    assert created.status_code == 201, created.text
    broken = {"name": "broken", "format": "json", "mapping": {"fields": {"id": "x"}}, "secret": secret}
    assert (
        await http.post("/v1/staff/projects/casino-eu/integrations", json=broken, headers=bearer(admin))
    ).status_code == 422

    events = {
        "events": [
            {
                "id": "e1",
                "type": "signup",
                "ts": "2026-11-01T10:00:00Z",
                "player": {"id": "p1", "ref": partner["referral_code"]},
            },
            {
                "id": "e2",
                "type": "dep",
                "ts": 1793530800,
                "player": {"id": "p1"},
                "money": {"value": "12.50", "ccy": "EUR"},
            },
            {
                "id": "e3",
                "type": "dep",
                "ts": "2026-11-02T10:00:00Z",
                "player": {"id": "p1"},
                "money": {"value": "oops", "ccy": "EUR"},
            },
            {
                "id": "e4",
                "type": "dep",
                "ts": "2026-11-02T10:00:00Z",
                "player": {"id": "nobody"},
                "money": {"value": "5", "ccy": "EUR"},
            },
            {"id": "e5", "type": "dep", "player": {"id": "p1"}, "money": {"value": "5", "ccy": "EUR"}},
        ]
    }
    body = json.dumps(events).encode()
    url = "/v1/ingest/casino-eu/acme-json"
    forged = await http.post(url, content=body, headers={"X-Signature": signature_of("wrong-secret-000000", body)})
    assert forged.status_code == 401
    answer = await http.post(url, content=body, headers={"X-Signature": signature_of(secret, body)})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert [(e["event_id"], e["status"], e["reason"]) for e in result["events"]] == [
        ("e1", "accepted", None),
        ("e2", "accepted", None),
        ("e3", "refused", "bad amount"),
        ("e4", "refused", "unknown user"),
        ("e5", "refused", "missing field: occurred_at"),
    ]
    again = (await http.post(url, content=body, headers={"X-Signature": signature_of(secret, body)})).json()
    assert (again["accepted"], again["duplicates"], again["refused"]) == (0, 2, 3)
    async with clean.sessions() as session:
        rows = (
            await session.execute(
                text("SELECT client_event_id, kind, amount, partner_id::text FROM affiliate_events ORDER BY id")
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("e1", "registration", 0, partner["id"]),
        ("e2", "deposit", 1_250, partner["id"]),
    ]
