"""Every console page renders the real thing for the roles that open it: a funded loan, an application in review, a
partner network, close of business, reports and the audit trail, all made through the platform's own flows."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from tests.conftest import Stack
from tests.console_steps import console_admin, csrf_of
from tests.helpers import admin_token, bearer, borrower_token
from tests.origination_steps import application_body, apply, lending_product, wait_status
from tests.servicing_steps import close_through, funded_loan, open_date

PAGES = (
    "/console",
    "/console?days=90",
    "/console/applications",
    "/console/applications?status=disbursed",
    "/console/customers",
    "/console/loans",
    "/console/loans?status=active",
    "/console/collections",
    "/console/cob",
    "/console/products",
    "/console/money",
    "/console/affiliate",
    "/console/reports",
    "/console/reports?name=portfolio",
    "/console/reports?name=trial-balance",
    "/console/reports?name=accountant",
    "/console/reports?name=customers",
    "/console/reports?name=cpa",
    "/console/ledger",
    "/console/staff",
    "/console/audit",
    "/console/account",
)


async def test_every_page_shows_the_platforms_own_data(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    _, loan_id = await funded_loan(http, admin, "+447700950001")
    await close_through(http, admin, (await open_date(http, admin)) + timedelta(days=3))  # the loan has a history
    product_id = await lending_product_id(http, admin)
    phone = "+447700950002"
    token = await borrower_token(http, phone)
    review = await apply(http, token, application_body(product_id, phone, national_id="BD990004"))
    await wait_status(http, token, review["id"], "manual_review")
    project = await http.post(
        "/v1/staff/projects",
        headers=bearer(admin),
        json={
            "code": "casino",
            "name": "Casino",
            "currency": "EUR",
            "points_per_unit": "1",
            "plan": {"levels": ["10", "5", "3"]},
        },
    )
    assert project.status_code == 201, project.text
    root = await http.post(
        "/v1/staff/partners",
        headers=bearer(admin),
        json={"project": "casino", "name": "Root", "phone": "+447700950010"},
    )
    child = await http.post(
        "/v1/staff/partners",
        headers=bearer(admin),
        json={"project": "casino", "name": "Child", "phone": "+447700950011", "sponsor_id": root.json()["id"]},
    )
    assert child.status_code == 201, child.text

    await console_admin(http, clean.settings)
    for path in PAGES:
        page = await http.get(path)
        assert page.status_code == 200, (path, page.text[:2000])
        assert "Traceback" not in page.text
    loan = await http.get(f"/console/loans/{loan_id}")
    assert loan.status_code == 200 and 'data-test="owed"' in loan.text and "<svg" in loan.text
    application = await http.get(f"/console/applications/{review['id']}")
    assert application.status_code == 200 and 'data-test="decision-form"' in application.text
    assert "score" in application.text  # the checks' findings
    tree = await http.get("/console/affiliate/casino")
    assert tree.status_code == 200 and tree.text.count('data-test="partner-node"') == 2
    customer_id = re.search(r"/console/customers/([0-9a-f-]{36})", loan.text)
    assert customer_id
    found = await http.get("/console/customers", params={"q": "+44 7700 950001"})
    assert customer_id.group(1) in found.text
    by_name = await http.get("/console/customers", params={"q": "  alice   EXAMPLE "})
    assert customer_id.group(1) in by_name.text
    csv = await http.get("/console/reports/trial-balance.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    dashboard = await http.get("/console")
    assert 'data-test="funnel-disbursed">1<' in dashboard.text


async def lending_product_id(http: httpx.AsyncClient, admin: str) -> str:
    products = (await http.get("/v1/staff/products", headers=bearer(admin))).json()["data"]
    return str(products[0]["id"]) if products else await lending_product(http, admin)


async def test_an_admin_configures_a_product_version_with_its_quote_beside_it(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    home = await console_admin(http, clean.settings)
    made = await http.post(
        "/console/products", data={"csrf_token": csrf_of(home), "code": "weekly", "name": "Weekly", "currency": "GBP"}
    )
    product = await http.get(made.headers["location"])
    form = {
        "csrf_token": csrf_of(product),
        "idempotency_key": "9d7b0a52-9b1e-4f51-bb0c-9a2cfe3d1f01",
        "valid_from": "2026-01-01",
        "profile": "uk_fca_hcstc",
        "principal_min": "50",
        "principal_max": "1000",
        "principal_step": "10",
        "term_min_days": "7",
        "term_max_days": "60",
        "rate_percent": "0.8",
        "rate_per": "day",
        "day_count": "actual_365_fixed",
        "repayment": "single",
        "preview_principal": "100",
        "preview_term_days": "30",
    }
    path = made.headers["location"].split("?")[0]
    preview = await http.post(f"{path}/preview", data=form)
    assert preview.status_code == 200
    assert "£124.00" in preview.text  # £100 for 30 days at the FCA's 0.8% a day
    too_dear = await http.post(f"{path}/preview", data={**form, "rate_percent": "1.5"})
    assert "cannot be offered" in too_dear.text
    saved = await http.post(f"{path}/versions", data=form)
    assert saved.status_code == 303, saved.text
    again = await http.post(f"{path}/versions", data=form)  # the same form twice makes one version
    assert again.status_code == 303
    page = await http.get(path)
    assert page.text.count("<td>uk_fca_hcstc</td>") == 1
