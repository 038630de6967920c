"""The dev stack's demo data is valid (it passes the same checks staff input does) and seeding twice adds nothing."""

from __future__ import annotations

import httpx

from tests.conftest import Stack
from tests.helpers import bearer, borrower_token
from workers.demo_data import ensure_demo_data


async def test_demo_data_is_created_once_and_quotes_work(http: httpx.AsyncClient, clean: Stack) -> None:
    assert len(await ensure_demo_data(clean.sessions)) == 3
    assert await ensure_demo_data(clean.sessions) == []
    token = await borrower_token(http, "+447700901200")
    [offer] = (await http.get("/v1/products", headers=bearer(token))).json()["data"]
    quoted = await http.post(
        "/v1/quotes", json={"product_id": offer["id"], "principal": 10_000, "term_days": 30}, headers=bearer(token)
    )
    assert quoted.json()["total_due"] == {"amount": 12_400, "currency": "GBP"}
    opened = await http.post("/v1/wallets", json={"type": "main", "currency": "EUR"}, headers=bearer(token))
    assert opened.status_code == 201
