"""Steps the servicing stories share: a funded loan, moving business time with close of business, paying, and
reading what the ledger and the engine say."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from tests.conftest import Stack
from tests.helpers import bearer
from tests.origination_steps import signed, wait_status


async def funded_loan(http: httpx.AsyncClient, admin: str, phone: str, **body: Any) -> tuple[str, str]:
    """(borrower token, loan id) of a loan paid out to `pm_card_visa` (product: tests.origination_steps.TERMS)."""
    token, app_id = await signed(http, admin, phone, **body)
    card = await http.post(
        f"/v1/applications/{app_id}/card", json={"payment_method": "pm_card_visa"}, headers=bearer(token)
    )
    assert card.status_code == 200, card.text
    funded = await wait_status(http, token, app_id, "disbursed")
    return token, str(funded["loan_id"])


async def product_with_terms(
    http: httpx.AsyncClient, admin: str, code: str, currency: str, terms: dict[str, Any], profile: str | None = None
) -> str:
    created = await http.post(
        "/v1/staff/products", json={"code": code, "name": code, "currency": currency}, headers=bearer(admin)
    )
    assert created.status_code == 201, created.text
    product_id: str = created.json()["id"]
    body: dict[str, Any] = {"valid_from": (datetime.now(UTC) - timedelta(days=1)).isoformat(), "terms": terms}
    if profile:
        body["profile"] = profile
    version = await http.post(f"/v1/staff/products/{product_id}/versions", json=body, headers=bearer(admin))
    assert version.status_code == 201, version.text
    return product_id


async def close_through(http: httpx.AsyncClient, admin: str, until: date) -> dict[str, Any]:
    response = await http.post(
        "/v1/staff/cob", json={"until": until.isoformat()}, headers=bearer(admin), params={"wait_s": 300}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["last_closed"] == until.isoformat()
    return body


async def open_date(http: httpx.AsyncClient, admin: str) -> date:
    body = (await http.get("/v1/staff/cob", headers=bearer(admin))).json()
    return date.fromisoformat(body["open_business_date"])


async def loan(http: httpx.AsyncClient, token: str, loan_id: str) -> dict[str, Any]:
    response = await http.get(f"/v1/loans/{loan_id}", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def pay(
    http: httpx.AsyncClient, token: str, loan_id: str, amount: int, *, key: str | None = None, method: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"amount": amount} | ({"payment_method": method} if method else {})
    headers = bearer(token) | ({"Idempotency-Key": key} if key else {})
    response = await http.post(f"/v1/loans/{loan_id}/repayments", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return await settled_payment(http, token, loan_id, response.json()["id"])


async def settled_payment(
    http: httpx.AsyncClient, token: str, loan_id: str, payment_id: str, timeout_s: float = 20.0
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        found = (await http.get(f"/v1/loans/{loan_id}/payments/{payment_id}", headers=bearer(token))).json()
        if found["status"] in ("succeeded", "failed"):
            return dict(found)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"payment stayed {found['status']}")
        await asyncio.sleep(0.1)


async def wait_until(check: Any, what: str, timeout_s: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never: {what}")
        await asyncio.sleep(0.1)


async def scalar(stack: Stack, sql: str, **params: Any) -> Any:
    async with stack.sessions() as session:
        return await session.scalar(text(sql), params)


async def trial_balance_is_whole(http: httpx.AsyncClient, admin: str, as_of: date) -> dict[str, Any]:
    """The trial balance nets to zero per currency, and its loan lines equal what the loans' accounts hold."""
    response = await http.get(
        "/v1/staff/reports/trial-balance", params={"as_of": as_of.isoformat()}, headers=bearer(admin)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert all(total == 0 for total in body["totals"].values()), body["totals"]
    return body


async def funded_loan_of(http: httpx.AsyncClient, product_id: str, phone: str, **body: Any) -> tuple[str, str]:
    """A loan of the given product, walked from application to payout."""
    from tests.helpers import borrower_token
    from tests.origination_steps import application_body, apply, signing_code

    token = await borrower_token(http, phone)
    created = await apply(http, token, application_body(product_id, phone, **body))
    await wait_status(http, token, created["id"], "offered")
    accepted = await http.post(f"/v1/applications/{created['id']}/accept", headers=bearer(token))
    assert accepted.status_code == 200, accepted.text
    code = await signing_code(http, phone)
    signed_now = await http.post(f"/v1/applications/{created['id']}/sign", json={"code": code}, headers=bearer(token))
    assert signed_now.status_code == 200, signed_now.text
    card = await http.post(
        f"/v1/applications/{created['id']}/card", json={"payment_method": "pm_card_visa"}, headers=bearer(token)
    )
    assert card.status_code == 200, card.text
    funded = await wait_status(http, token, created["id"], "disbursed")
    return token, str(funded["loan_id"])


async def set_ladder(http: httpx.AsyncClient, admin: str, product_id: str, steps: list[dict[str, Any]]) -> None:
    response = await http.put(
        f"/v1/staff/products/{product_id}/collection-ladder", json={"steps": steps}, headers=bearer(admin)
    )
    assert response.status_code == 200, response.text


async def case(stack: Stack, loan_id: str) -> dict[str, Any] | None:
    async with stack.sessions() as session:
        row = (
            await session.execute(text("SELECT * FROM collection_cases WHERE loan_id = :id"), {"id": loan_id})
        ).one_or_none()
    return None if row is None else dict(row._mapping)


async def steps_done(stack: Stack, loan_id: str, *expected: str) -> list[str]:
    async def check() -> list[str] | None:
        found = await case(stack, loan_id)
        done = list(found["steps_done"]) if found else []
        return done if all(step in done for step in expected) else None

    found: list[str] = await wait_until(check, f"collections steps {expected} done")
    return found
