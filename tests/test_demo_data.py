"""The dev stack's demo data is valid (it passes the same checks staff input does) and seeding twice adds nothing."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from domain.lending.engine import SignedLoan, state_as_of
from domain.lending.products import terms_from_stored
from domain.lending.profiles import UK_FCA_HCSTC
from domain.lending.schedule import quote
from store.repositories import products as product_store
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


async def test_the_demo_product_is_held_to_its_profile_caps(clean: Stack) -> None:
    """Seeded through the same service as staff versions: the FCA caps are stored with the terms, so a £100 loan left
    unpaid for 200 nights owes at most £100 of cost (it owed £260 when the seed wrote products its own way)."""
    await ensure_demo_data(clean.sessions)
    async with clean.sessions() as session:
        [product] = [p for p in await product_store.products(session) if p.code == "payday-gb"]
        [version] = await product_store.versions(session, product.id)
    assert version.profile == "uk_fca_hcstc"
    terms = terms_from_stored(version.terms, product.currency)
    assert terms.caps == UK_FCA_HCSTC
    start = date(2026, 1, 5)
    loan = SignedLoan(terms, 10_000, start, quote(terms, 10_000, 30, start).schedule)
    assert state_as_of(loan, [], start + timedelta(days=200)).total_outstanding == 20_000
