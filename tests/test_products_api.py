"""Staff configure versioned credit products; borrowers see offers and get quotes that are the loan they would get."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text

from tests.conftest import Stack
from tests.helpers import admin_token, bearer, borrower_token

PAYDAY_TERMS = {
    "principal_min": 5_000,
    "principal_max": 100_000,
    "principal_step": 1_000,
    "term_min_days": 7,
    "term_max_days": 60,
    "daily_rate": "0.008",
    "extension_days": [7, 14],
    "max_extensions": 2,
}
YESTERDAY = (datetime.now(UTC) - timedelta(days=1)).isoformat()


async def new_product(http: httpx.AsyncClient, admin: str, code: str = "payday-gb") -> dict[str, Any]:
    response = await http.post(
        "/v1/staff/products", json={"code": code, "name": "Payday", "currency": "GBP"}, headers=bearer(admin)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_an_fca_product_quotes_24_pounds_for_100_pounds_over_30_days(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    product = await new_product(http, admin)
    version = await http.post(
        f"/v1/staff/products/{product['id']}/versions",
        json={"valid_from": YESTERDAY, "terms": PAYDAY_TERMS, "profile": "uk_fca_hcstc"},
        headers=bearer(admin),
    )
    assert version.status_code == 201, version.text
    borrower = await borrower_token(http, "+447700901000")
    offers = (await http.get("/v1/products", headers=bearer(borrower))).json()["data"]
    assert [o["code"] for o in offers] == ["payday-gb"]
    quoted = await http.post(
        "/v1/quotes", json={"product_id": product["id"], "principal": 10_000, "term_days": 30}, headers=bearer(borrower)
    )
    assert quoted.status_code == 200, quoted.text
    body = quoted.json()
    assert body["interest"] == {"amount": 2_400, "currency": "GBP"}
    assert body["total_due"] == {"amount": 12_400, "currency": "GBP"}
    assert body["daily_rate"] == "0.008"
    assert len(body["schedule"]) == 1


async def test_a_product_that_breaks_its_profile_is_refused_with_reasons(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    product = await new_product(http, admin)
    too_dear = {**PAYDAY_TERMS, "daily_rate": "0.01", "max_extensions": 3}
    refused = await http.post(
        f"/v1/staff/products/{product['id']}/versions",
        json={"valid_from": YESTERDAY, "terms": too_dear, "profile": "uk_fca_hcstc"},
        headers=bearer(admin),
    )
    assert refused.status_code == 422
    problems = refused.json()["problems"]
    assert any("above the daily cost cap" in p for p in problems)
    assert any("at most 2 extensions" in p for p in problems)
    nonsense = {**PAYDAY_TERMS, "principal_min": 200_000}
    assert (
        await http.post(
            f"/v1/staff/products/{product['id']}/versions",
            json={"valid_from": YESTERDAY, "terms": nonsense},
            headers=bearer(admin),
        )
    ).status_code == 422
    async with clean.sessions() as s:
        assert await s.scalar(text("SELECT count(*) FROM credit_product_versions")) == 0


async def test_a_new_version_applies_from_its_date_and_versions_are_kept(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    product = await new_product(http, admin)
    for valid_from, rate in ((YESTERDAY, "0.008"), ((datetime.now(UTC) + timedelta(days=7)).isoformat(), "0.005")):
        response = await http.post(
            f"/v1/staff/products/{product['id']}/versions",
            json={"valid_from": valid_from, "terms": {**PAYDAY_TERMS, "daily_rate": rate}},
            headers=bearer(admin),
        )
        assert response.status_code == 201
    borrower = await borrower_token(http, "+447700901001")
    quoted = await http.post(
        "/v1/quotes", json={"product_id": product["id"], "principal": 10_000, "term_days": 10}, headers=bearer(borrower)
    )
    assert (quoted.json()["product_version"], quoted.json()["interest"]["amount"]) == (1, 800)
    listed = (await http.get("/v1/staff/products", headers=bearer(admin))).json()["data"]
    assert [v["version"] for v in listed[0]["versions"]] == [1, 2]


async def test_a_quote_outside_the_product_is_refused(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    product = await new_product(http, admin)
    await http.post(
        f"/v1/staff/products/{product['id']}/versions",
        json={"valid_from": YESTERDAY, "terms": PAYDAY_TERMS},
        headers=bearer(admin),
    )
    borrower = await borrower_token(http, "+447700901002")
    for principal, term in ((4_000, 30), (10_500, 30), (10_000, 61)):
        response = await http.post(
            "/v1/quotes",
            json={"product_id": product["id"], "principal": principal, "term_days": term},
            headers=bearer(borrower),
        )
        assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    only_staff = await http.post(
        "/v1/staff/products", json={"code": "x1", "name": "x", "currency": "GBP"}, headers=bearer(borrower)
    )
    assert only_staff.status_code == 403


async def test_a_lender_states_a_yearly_rate_and_quotes_by_instalments_from_chosen_dates(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    """Terms as a bank writes them: 9.4822% a year, Actual/Actual, six monthly instalments, interest rounded per
    instalment; a quote for a disbursement date and first repayment date the borrower picks."""
    admin = await admin_token(http, clean.settings)
    product = await new_product(http, admin, "instalments-usd")
    terms = {
        "principal_min": 10_000,
        "principal_max": 1_000_000,
        "principal_step": 100,
        "term_min_days": 28,
        "term_max_days": 400,
        "interest_rate": {"rate": "0.094822", "per": "year", "day_count": "actual_actual_isda"},
        "interest_rounding": "per_period",
        "repayment": "annuity",
        "frequency": "monthly",
    }
    both = await http.post(
        f"/v1/staff/products/{product['id']}/versions",
        headers=bearer(admin),
        json={"valid_from": YESTERDAY, "terms": {**terms, "daily_rate": "0.001"}},
    )
    assert both.status_code == 422
    version = await http.post(
        f"/v1/staff/products/{product['id']}/versions",
        headers=bearer(admin),
        json={"valid_from": YESTERDAY, "terms": terms},
    )
    assert version.status_code == 201, version.text
    borrower = await borrower_token(http, "+447700901010")
    [offer] = (await http.get("/v1/products", headers=bearer(borrower))).json()["data"]
    assert offer["interest_rate"] == {"rate": "0.094822", "per": "year", "day_count": "actual_actual_isda"}

    start = (await http.get("/v1/staff/cob", headers=bearer(admin))).json()["open_business_date"]
    disbursed = (datetime.fromisoformat(start) + timedelta(days=3)).date()
    first = disbursed + timedelta(days=20)
    quoted = await http.post(
        "/v1/quotes",
        headers=bearer(borrower),
        json={
            "product_id": product["id"],
            "principal": 10_000,
            "term_periods": 6,
            "disbursement_date": disbursed.isoformat(),
            "first_repayment_date": first.isoformat(),
        },
    )
    assert quoted.status_code == 200, quoted.text
    body = quoted.json()
    dates = [i["due_date"] for i in body["schedule"]]
    assert len(dates) == 6 and dates[0] == first.isoformat() and body["start_date"] == disbursed.isoformat()
    assert (
        body["due_date"] == dates[-1]
        and body["term_days"] == (datetime.fromisoformat(dates[-1]).date() - disbursed).days
    )
    assert sum(i["principal"] for i in body["schedule"]) == 10_000
    assert len({i["total"] for i in body["schedule"][1:-1]}) == 1  # equal instalments after the broken first period

    for bad in (
        {"term_days": 30, "term_periods": 2},
        {"term_periods": 2, "disbursement_date": "2001-01-01"},
        {"term_periods": 2, "first_repayment_date": disbursed.isoformat(), "disbursement_date": disbursed.isoformat()},
    ):
        refused = await http.post(
            "/v1/quotes", headers=bearer(borrower), json={"product_id": product["id"], "principal": 10_000, **bad}
        )
        assert refused.status_code == 422, (bad, refused.text)


async def test_a_double_submitted_version_is_made_once(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    product = await new_product(http, admin, "twice-gb")
    body = {"valid_from": YESTERDAY, "terms": PAYDAY_TERMS, "profile": "uk_fca_hcstc"}
    headers = bearer(admin) | {"Idempotency-Key": "version-double-click"}
    first = await http.post(f"/v1/staff/products/{product['id']}/versions", json=body, headers=headers)
    again = await http.post(f"/v1/staff/products/{product['id']}/versions", json=body, headers=headers)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    listed = (await http.get("/v1/staff/products", headers=bearer(admin))).json()["data"]
    assert [len(p["versions"]) for p in listed if p["code"] == "twice-gb"] == [1]
    other = await http.post(
        f"/v1/staff/products/{product['id']}/versions", json={**body, "profile": None}, headers=headers
    )
    assert other.status_code == 409  # the same key with another body
