"""Steps the affiliate stories share: a project with a partner line, and an event pushed by a client platform."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx

from api.ingest.routes import signature_of
from tests.helpers import bearer

SECRET = "client-secret-0123456789"
MAPPING = {
    "fields": {
        "event_id": "id",
        "kind": "type",
        "user": "player",
        "amount": "value",
        "currency": "ccy",
        "occurred_at": "ts",
        "referral_code": "ref",
    },
    "kinds": {"signup": "registration", "dep": "deposit"},
}


async def partner_line(
    http: httpx.AsyncClient, admin: str, project: str, phones: list[str], site_url: str | None = None
) -> list[dict[str, Any]]:
    """A real-time EUR project with three levels (10%, 5%, 2%) and a line of partners, each sponsored by the one
    before; answers the partners as created (ids and referral codes)."""
    body = {
        "code": project,
        "name": project.title(),
        "currency": "EUR",
        "points_per_unit": "1",
        "plan": {"levels": ["10", "5", "2"]},
        "accrual": "realtime",
        **({"site_url": site_url} if site_url else {}),
    }
    made = await http.post("/v1/staff/projects", json=body, headers=bearer(admin))
    assert made.status_code == 201, made.text
    integration = {"name": "casino", "format": "json", "mapping": MAPPING, "secret": SECRET}
    added = await http.post(f"/v1/staff/projects/{project}/integrations", json=integration, headers=bearer(admin))
    assert added.status_code == 201, added.text
    partners: list[dict[str, Any]] = []
    for n, phone in enumerate(phones):
        partner = {"project": project, "name": f"Partner {n}", "phone": phone}
        if partners:
            partner["sponsor_id"] = partners[-1]["id"]
        created = await http.post("/v1/staff/partners", json=partner, headers=bearer(admin))
        assert created.status_code == 201, created.text
        partners.append(created.json())
    return partners


async def deposit(http: httpx.AsyncClient, project: str, event_id: str, referral_code: str, amount: str) -> None:
    """A client platform reports a new player (referred by the code) and their deposit."""
    now = datetime.now(UTC).isoformat()
    events = [
        {"id": f"{event_id}-r", "type": "signup", "ts": now, "player": event_id, "ref": referral_code},
        {"id": event_id, "type": "dep", "ts": now, "player": event_id, "value": amount, "ccy": "EUR"},
    ]
    payload = json.dumps({"events": events}).encode()
    answer = await http.post(
        f"/v1/ingest/{project}/casino", content=payload, headers={"X-Signature": signature_of(SECRET, payload)}
    )
    assert answer.status_code == 200 and answer.json()["accepted"] == 2, answer.text
