"""Steps the origination stories share: a lending product, an application, and walking it to each step."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.helpers import bearer, borrower_token, code_in, outbox_messages

TERMS = {
    "principal_min": 10_000,
    "principal_max": 100_000,
    "principal_step": 1_000,
    "term_min_days": 7,
    "term_max_days": 60,
    "daily_rate": "0.008",
    "origination_fee_percent": "5",
}


async def lending_product(http: httpx.AsyncClient, admin: str, rules: dict[str, Any] | None = None) -> str:
    created = await http.post(
        "/v1/staff/products", json={"code": "payday-gb", "name": "Payday", "currency": "GBP"}, headers=bearer(admin)
    )
    assert created.status_code == 201, created.text
    product_id: str = created.json()["id"]
    version = await http.post(
        f"/v1/staff/products/{product_id}/versions",
        json={"valid_from": (datetime.now(UTC) - timedelta(days=1)).isoformat(), "terms": TERMS},
        headers=bearer(admin),
    )
    assert version.status_code == 201, version.text
    if rules is not None:
        response = await http.put(f"/v1/staff/products/{product_id}/rules", json=rules, headers=bearer(admin))
        assert response.status_code == 200, response.text
    return product_id


def application_body(
    product_id: str,
    phone: str,
    *,
    national_id: str = "AB123456",
    principal: int = 50_000,
    term_days: int = 30,
    monthly_income: int = 300_000,
    device: str | None = None,
    source: dict[str, str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product_id": product_id,
        "principal": principal,
        "term_days": term_days,
        "applicant": {
            "full_name": "Alice Example",
            "national_id": national_id,
            "birth_date": "1990-05-01",
            "phone": phone,
            "email": "alice@example.com",
            "monthly_income": monthly_income,
        },
        "device_fingerprint": device or f"device-{phone}",
    }
    if source is not None:
        body["source"] = source
    return body


async def apply(http: httpx.AsyncClient, token: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    headers = bearer(token) | ({"Idempotency-Key": key} if key else {})
    response = await http.post("/v1/applications", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def wait_status(
    http: httpx.AsyncClient, token: str, application_id: str, *statuses: str, timeout_s: float = 30.0
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        response = await http.get(f"/v1/applications/{application_id}", headers=bearer(token))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in statuses:
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"application stayed {body['status']}, never reached {statuses}")
        await asyncio.sleep(0.1)


async def signing_code(http: httpx.AsyncClient, phone: str, count: int = 1, timeout_s: float = 15.0) -> str:
    """The newest signing code sent to `phone`, once `count` of them exist."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        codes = [m for m in await outbox_messages(http, phone) if m["purpose"] == "signing_code"]
        if len(codes) >= count:
            return code_in(codes[0]["body"])
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no signing code #{count} for {phone}")
        await asyncio.sleep(0.1)


async def offered(http: httpx.AsyncClient, admin: str, phone: str, **body: Any) -> tuple[str, str, dict[str, Any]]:
    """A signed-in borrower with an application that reached its offer: (token, application id, application)."""
    product_id = await lending_product(http, admin)
    token = await borrower_token(http, phone)
    created = await apply(http, token, application_body(product_id, phone, **body))
    return token, created["id"], await wait_status(http, token, created["id"], "offered")


async def signed(http: httpx.AsyncClient, admin: str, phone: str, **body: Any) -> tuple[str, str]:
    token, app_id, _ = await offered(http, admin, phone, **body)
    accepted = await http.post(f"/v1/applications/{app_id}/accept", headers=bearer(token))
    assert accepted.status_code == 200, accepted.text
    code = await signing_code(http, phone)
    response = await http.post(f"/v1/applications/{app_id}/sign", json={"code": code}, headers=bearer(token))
    assert response.status_code == 200, response.text
    return token, app_id
