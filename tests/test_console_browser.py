"""Each staff role's daily task, end to end in a real browser against the real stack: an underwriter decides a
queued application, a collector records a promise, an accountant downloads the trial balance and it nets to zero,
an admin configures a product version and runs close of business watching its progress bar, and an admin approves
a commission recalculation. Screenshots of the main pages at 1440x900 are written as they go."""

from __future__ import annotations

import asyncio
import csv
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.ingest.routes import signature_of
from tests.browser import Browser, browser_or_fail
from tests.conftest import Stack
from tests.helpers import admin_token, bearer, borrower_token
from tests.origination_steps import application_body, apply, lending_product, wait_status
from tests.served import served_api
from tests.servicing_steps import close_through, funded_loan, open_date

pytestmark = pytest.mark.slow
PASSWORD = "a-long-staff-password"


@pytest.fixture
async def browser(clean: Stack, tmp_path: Path) -> AsyncIterator[Browser]:
    browser_or_fail()
    async with served_api(clean) as base:
        opened = await asyncio.to_thread(Browser, base, tmp_path)
        try:
            yield opened
        finally:
            await opened.quit()


async def member(http: httpx.AsyncClient, stack: Stack, email: str, role: str) -> None:
    admin = await admin_token(http, stack.settings)
    made = await http.post(
        "/v1/staff/members", headers=bearer(admin), json={"email": email, "password": PASSWORD, "roles": [role]}
    )
    assert made.status_code == 201, made.text


async def test_an_underwriter_decides_a_queued_application(
    http: httpx.AsyncClient, clean: Stack, browser: Browser
) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await lending_product(http, admin)
    phone = "+447700960001"
    token = await borrower_token(http, phone)
    created = await apply(http, token, application_body(product_id, phone, national_id="BD120004"))
    await wait_status(http, token, created["id"], "manual_review")
    await member(http, clean, "uw@lendflow.dev", "underwriter")

    await browser.sign_in("uw@lendflow.dev", PASSWORD)
    await browser.screenshot("dashboard-underwriter")
    await browser.click('nav a[data-page="applications"]')
    await browser.find('table[data-test="application-queue"]')
    await browser.screenshot("applications-queue")
    await browser.click(f'a[href="/console/applications/{created["id"]}"]')
    await browser.find('form[data-test="decision-form"]')
    await browser.screenshot("application")
    await browser.fill("input[name=principal]", "300.00")
    await browser.fill("textarea[name=reason]", "stable income, thin file")
    await browser.click('button[data-test="decide"]')
    assert "Decision recorded" in await browser.text(".flash")
    offered = await wait_status(http, token, created["id"], "offered")
    assert offered["offer"]["principal"] == 30_000
    audit = (await http.get("/v1/staff/audit", headers=bearer(admin), params={"action": "application.decision"})).json()
    assert audit["data"][0]["actor_label"] == "uw@lendflow.dev"


async def test_a_collector_records_a_promise_to_pay(http: httpx.AsyncClient, clean: Stack, browser: Browser) -> None:
    admin = await admin_token(http, clean.settings)
    _, loan_id = await funded_loan(http, admin, "+447700960002")
    loan = (await http.get(f"/v1/staff/loans/{loan_id}", headers=bearer(admin))).json()
    await close_through(http, admin, datetime.fromisoformat(loan["due_date"]).date() + timedelta(days=3))
    await member(http, clean, "coll@lendflow.dev", "collector")

    await browser.sign_in("coll@lendflow.dev", PASSWORD)
    await browser.click('nav a[data-page="collections"]')
    await browser.find('table[data-test="collections-queue"]')
    await browser.screenshot("collections")
    await browser.click(f'a[href="/console/collections/{loan_id}"]')
    await browser.click('button[data-test="take"]')
    assert "Taken" in await browser.text(".flash")
    promised = (await open_date(http, admin)) + timedelta(days=5)
    date_input = await browser.find('form[data-test="promise-form"] input[name=date]')
    await browser.run(
        lambda: browser.driver.execute_script("arguments[0].value = arguments[1]", date_input, promised.isoformat())
    )
    await browser.fill('form[data-test="promise-form"] input[name=amount]', "150.00")
    await browser.click('button[data-test="record-promise"]')
    assert "Promise recorded" in await browser.text(".flash")
    assert "£150.00" in await browser.text('table[data-test="promises"]')
    await browser.screenshot("collection-case")
    queue = (await http.get("/v1/staff/collections", headers=bearer(admin))).json()["data"]
    assert queue[0]["promise"]["amount"] == 15_000


async def test_an_accountant_downloads_a_trial_balance_that_nets_to_zero(
    http: httpx.AsyncClient, clean: Stack, browser: Browser
) -> None:
    admin = await admin_token(http, clean.settings)
    await funded_loan(http, admin, "+447700960003")
    await member(http, clean, "acc@lendflow.dev", "accountant")

    await browser.sign_in("acc@lendflow.dev", PASSWORD)
    await browser.click('nav a[data-page="reports"]')
    await browser.go("/console/reports?name=trial-balance")
    await browser.find('table[data-test="report-table"]')
    await browser.screenshot("reports-trial-balance")
    await browser.click('a[data-test="download-csv"]', navigates=False)
    for _ in range(100):
        files = [f for f in browser.downloads.glob("*.csv")]
        if files:
            break
        await asyncio.sleep(0.1)
    assert files, "the CSV never downloaded"
    with files[0].open() as handle:
        lines = list(csv.DictReader(handle))
    assert lines
    totals: dict[str, int] = {}
    for line in lines:
        totals[line["currency"]] = totals.get(line["currency"], 0) + int(line["balance"])
    assert totals == dict.fromkeys(totals, 0)
    await browser.go("/console/loans")
    await browser.screenshot("loans")
    await browser.go("/console/ledger")
    await browser.screenshot("ledger")


async def test_an_admin_configures_a_product_and_watches_close_of_business(
    http: httpx.AsyncClient, clean: Stack, browser: Browser
) -> None:
    admin = await admin_token(http, clean.settings)
    await funded_loan(http, admin, "+447700960004")
    await browser.sign_in(clean.settings.admin_email, clean.settings.admin_password)
    await browser.screenshot("dashboard")
    await browser.go("/console/products")
    await browser.fill('form[data-test="new-product"] input[name=code]', "weekly-gb")
    await browser.fill('form[data-test="new-product"] input[name=name]', "Weekly (UK)")
    await browser.fill('form[data-test="new-product"] input[name=currency]', "GBP")
    await browser.click('form[data-test="new-product"] button')
    await browser.find('form[data-test="version-form"]')
    await browser.fill("input[name=rate_percent]", "0.7")  # the preview follows the form
    for _ in range(60):
        if "£" in await browser.text('[data-test="quote-preview"]'):
            break
        await asyncio.sleep(0.1)
    assert "Total to repay" in await browser.text('[data-test="quote-preview"]')
    await browser.screenshot("product-configurator")
    await browser.click('button[data-test="save-version"]')
    assert "Version 1 saved" in await browser.text(".flash")

    await browser.go("/console/cob")
    opened = await open_date(http, admin)
    until = opened + timedelta(days=25)
    date_input = await browser.find("input[name=until]")
    await browser.run(
        lambda: browser.driver.execute_script("arguments[0].value = arguments[1]", date_input, until.isoformat())
    )
    await browser.click('button[data-test="run-cob"]')
    seen: set[str] = set()
    for _ in range(600):
        text = await browser.text('[data-test="cob-progress"]')
        seen.add(text)
        if "No run in progress" in text and len(seen) > 1:
            break
        await asyncio.sleep(0.1)
        if len(seen) == 3:
            await browser.screenshot("close-of-business-running")
    assert any("dates closed" in text for text in seen), seen  # the bar followed the run
    assert len(seen) >= 2, seen
    last_closed = await browser.text('[data-test="last-closed"]')
    assert until.strftime("%b") in last_closed and str(until.day) in last_closed
    await browser.screenshot("close-of-business")


async def test_an_admin_approves_a_commission_recalculation(
    http: httpx.AsyncClient, clean: Stack, browser: Browser
) -> None:
    admin = await admin_token(http, clean.settings)
    staff = bearer(admin)
    project = {
        "code": "poker",
        "name": "Poker",
        "currency": "EUR",
        "points_per_unit": "1",
        "plan": {"levels": ["10", "5", "3"]},
        "accrual": "realtime",
    }
    assert (await http.post("/v1/staff/projects", json=project, headers=staff)).status_code == 201
    root = (
        await http.post(
            "/v1/staff/partners", headers=staff, json={"project": "poker", "name": "Root", "phone": "+447700960020"}
        )
    ).json()
    ann = (
        await http.post(
            "/v1/staff/partners",
            headers=staff,
            json={"project": "poker", "name": "Ann", "phone": "+447700960021", "sponsor_id": root["id"]},
        )
    ).json()
    secret = "client-secret-0123456789"
    mapping = {
        "fields": {
            "event_id": "id",
            "kind": "type",
            "user": "player",
            "amount": "amount",
            "currency": "ccy",
            "occurred_at": "at",
            "referral_code": "ref",
        },
        "kinds": {"signup": "registration", "dep": "deposit"},
    }
    added = await http.post(
        "/v1/staff/projects/poker/integrations",
        headers=staff,
        json={"name": "acme", "format": "json", "mapping": mapping, "secret": secret},
    )
    assert added.status_code == 201, added.text
    when = datetime.now(UTC) - timedelta(days=2)
    body = json.dumps(
        {
            "events": [
                {"id": "e1", "type": "signup", "player": "p1", "at": when.isoformat(), "ref": ann["referral_code"]},
                {"id": "e2", "type": "dep", "player": "p1", "at": when.isoformat(), "amount": "200.00", "ccy": "EUR"},
            ]
        }
    ).encode()
    pushed = await http.post("/v1/ingest/poker/acme", content=body, headers={"X-Signature": signature_of(secret, body)})
    assert pushed.status_code == 200 and pushed.json()["accepted"] == 2, pushed.text
    token = await borrower_token(http, "+447700960021")
    for _ in range(100):
        wallets = (await http.get("/v1/wallets", headers=bearer(token))).json()["data"]
        if wallets and wallets[0]["balance"]["amount"] == 2_000:
            break
        await asyncio.sleep(0.1)
    terms = await http.post(
        f"/v1/staff/partners/{ann['id']}/terms",
        headers=staff,
        json={"project": "poker", "valid_from": (when - timedelta(days=1)).isoformat(), "levels": ["12"]},
    )
    assert terms.status_code == 201, terms.text
    recalculation_id = terms.json()["preview"].rsplit("/", 1)[-1]
    for _ in range(100):
        view = (await http.get(f"/v1/staff/recalculations/{recalculation_id}", headers=staff)).json()
        if view["status"] == "previewed":
            break
        await asyncio.sleep(0.1)

    await browser.sign_in(clean.settings.admin_email, clean.settings.admin_password)
    await browser.go("/console/affiliate/poker")
    await browser.find('[data-test="partner-tree"]')
    await browser.screenshot("affiliate-network")
    await browser.click(f'a[href="/console/affiliate/poker/recalculations/{recalculation_id}"]')
    assert "€4.00" in await browser.text('[data-test="recalc-total"]')  # 12% instead of 10% of 200.00
    await browser.screenshot("recalculation")
    await browser.click('button[data-test="approve"]')
    assert "posted" in await browser.text(".flash")
    for _ in range(100):
        wallets = (await http.get("/v1/wallets", headers=bearer(token))).json()["data"]
        if wallets[0]["balance"]["amount"] == 2_400:
            break
        await asyncio.sleep(0.1)
    assert wallets[0]["balance"]["amount"] == 2_400
