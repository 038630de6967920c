"""The borrower's and partner's pages in a real browser at phone size (375 by 812), against the real stack with the
fakes: a new borrower walks from the calculator to a funded loan (the application page moving on by itself, the
code read from the dev outbox, the card linked on the fake provider's page), then repays part with a double click
that charges once, extends, and repays the rest; the same walk in Vietnamese, where any text left untranslated
fails the page (the catalogs are strict in the tests); and a partner who sees a commission arrive and finds their
downline in the tree. Screenshots of every page land in .lendflow/screenshots/people-*.png."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.phones import parse_phone
from tests.affiliate_steps import deposit, partner_line
from tests.browser import Browser, browser_or_fail
from tests.conftest import Stack
from tests.helpers import admin_token, bearer, borrower_token, code_in, outbox_messages, wait_for_outbox
from tests.origination_steps import TERMS
from tests.served import served_api
from tests.servicing_steps import product_with_terms

pytestmark = pytest.mark.slow
PHONE_SIZE = (375, 812)
EXTENDABLE = {**TERMS, "extension_days": [7], "extension_fee_percent": "5", "max_extensions": 1}


@pytest.fixture
async def phone(clean: Stack, tmp_path: Path) -> AsyncIterator[Browser]:
    browser_or_fail()
    async with served_api(clean) as base:
        opened = await asyncio.to_thread(Browser, base, tmp_path, PHONE_SIZE)
        try:
            yield opened
        finally:
            await opened.quit()


async def sign_in(browser: Browser, http: httpx.AsyncClient, face: str, typed: str, country: str) -> None:
    e164 = parse_phone(typed, country)
    already = len(await outbox_messages(http, e164))
    await browser.go(f"/{face}")
    await browser.run(_select, browser, "select[name=country]", country)
    await browser.fill("[data-test=phone]", typed)
    await browser.click("[data-test=send-code]")
    messages = await wait_for_outbox(http, e164, count=already + 1)
    await browser.fill("[data-test=code]", code_in(messages[0]["body"]))
    await browser.click("[data-test=check-code]")


def _select(browser: Browser, css: str, value: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(browser.driver.find_element(By.CSS_SELECTOR, css)).select_by_value(value)


async def settled(http: httpx.AsyncClient, token: str, loan_id: str, count: int) -> list[dict[str, Any]]:
    """The loan's payments once `count` of them have settled."""
    for _ in range(300):
        found = (await http.get(f"/v1/loans/{loan_id}/payments", headers=bearer(token))).json()["data"]
        if len(found) >= count and all(p["status"] in ("succeeded", "failed") for p in found):
            return list(found)
        await asyncio.sleep(0.1)
    raise AssertionError(f"payments never settled: {found}")


async def walk_to_a_repaid_loan(
    browser: Browser, http: httpx.AsyncClient, stack: Stack, typed: str, country: str, language: str
) -> None:
    admin = await admin_token(http, stack.settings)
    await product_with_terms(http, admin, f"payday-{language}", "GBP", EXTENDABLE)
    e164 = parse_phone(typed, country)
    prefix = f"people-{language}"

    await sign_in(browser, http, "account", typed, country)
    assert await browser.attribute("html", "lang") == language
    await browser.screenshot(f"{prefix}-home")
    await browser.click("[data-test=borrow]")
    await browser.fill("[data-test=amount]", "300")
    await browser.fill("[data-test=term]", "30")
    await browser.click("[data-test=calculate]")
    await browser.find("[data-test=quote]")
    await browser.screenshot(f"{prefix}-calculator")
    await browser.fill("[data-test=full-name]", "Nguyễn Văn An" if language == "vi" else "Alice Example")
    await browser.fill("[data-test=national-id]", "VN123456" if language == "vi" else "AB123456")
    await browser.run(
        browser.driver.execute_script, "document.querySelector('[data-test=birth-date]').value = '1990-05-01'"
    )
    await browser.fill("[data-test=income]", "3000")
    await browser.click("[data-test=apply]")

    # The page moves on by itself: checking → offer (server-sent events swap the live part, no reload).
    await browser.screenshot(f"{prefix}-application-checking")
    await browser.wait_for("[data-test=accept]")
    await browser.screenshot(f"{prefix}-offer")
    codes_before = len(await outbox_messages(http, e164))
    await browser.click("[data-test=accept]")
    await browser.wait_for("[data-test=signing-code]")
    await browser.find("[data-test=agreement]")
    await browser.screenshot(f"{prefix}-agreement")
    messages = await wait_for_outbox(http, e164, count=codes_before + 1)
    await browser.fill("[data-test=signing-code]", code_in(messages[0]["body"]))
    await browser.click("[data-test=sign]")
    await browser.wait_for("[data-test=link-card]")
    await browser.click("[data-test=link-card]")  # off to the payment provider's page
    assert (await browser.path()).startswith("/dev/payments/card-setup")
    await browser.screenshot(f"{prefix}-provider-card-page")
    await browser.click("[data-test=fakepay-save]")
    await browser.wait_for("[data-test=open-loan]")  # paid out: the page moved on when the money went
    await browser.screenshot(f"{prefix}-paid")
    await browser.click("[data-test=open-loan]")
    loan_id = (await browser.path()).split("/")[3].split("?")[0]
    await browser.screenshot(f"{prefix}-loan")

    token = await borrower_token(http, e164)
    await browser.fill("[data-test=repay-amount]", "50")
    await browser.double_click("[data-test=repay]")  # a double click charges once
    payments = await settled(http, token, loan_id, 1)
    await asyncio.sleep(1)  # a second request, had one been sent, would be in by now
    assert len((await http.get(f"/v1/loans/{loan_id}/payments", headers=bearer(token))).json()["data"]) == 1
    assert payments[0]["amount"] == 5_000 and payments[0]["status"] == "succeeded"

    await browser.go(f"/account/loans/{loan_id}")
    await browser.click("[data-test=extend]")
    await settled(http, token, loan_id, 2)
    await browser.go(f"/account/loans/{loan_id}")
    await browser.screenshot(f"{prefix}-extended")
    await browser.click("[data-test=repay-all]")
    await settled(http, token, loan_id, 3)
    for _ in range(100):
        found = (await http.get(f"/v1/loans/{loan_id}", headers=bearer(token))).json()
        if found["status"] == "repaid":
            break
        await asyncio.sleep(0.2)
    assert found["status"] == "repaid" and found["balances"]["total"] == 0, found
    await browser.go(f"/account/loans/{loan_id}")
    await browser.screenshot(f"{prefix}-repaid")
    await browser.go("/account/wallets")
    await browser.screenshot(f"{prefix}-wallets")
    await browser.go("/account/messages")
    await browser.find("[data-test=message]")
    await browser.screenshot(f"{prefix}-messages")


async def test_a_new_borrower_from_the_calculator_to_a_repaid_loan(
    http: httpx.AsyncClient, clean: Stack, phone: Browser
) -> None:
    await walk_to_a_repaid_loan(phone, http, clean, "07700 963001", "GB", "en")


async def test_the_same_walk_in_vietnamese_leaves_no_text_untranslated(
    http: httpx.AsyncClient, clean: Stack, phone: Browser
) -> None:
    await walk_to_a_repaid_loan(phone, http, clean, "0912 963 002", "VN", "vi")
    text = await phone.text("body")
    for english in ("Your loan", "Repay", "Messages", "Sign out", "Wallets"):
        assert english not in text, f"{english!r} left in English on {await phone.path()}"


async def test_a_partner_sees_a_commission_arrive_and_finds_their_downline(
    http: httpx.AsyncClient, clean: Stack, phone: Browser
) -> None:
    admin = await admin_token(http, clean.settings)
    phones = ["+447700964001", "+447700964002", "+447700964003"]
    _, _, leaf = await partner_line(http, admin, "casino-web", phones, site_url="https://casino.example")
    await sign_in(phone, http, "partner", "07700 964002", "GB")
    await phone.find("[data-test=project-casino-web]")
    await deposit(http, "casino-web", "w1", leaf["referral_code"], "120.00")
    for _ in range(100):
        await phone.go("/partner")
        if "€6.00" in await phone.text("[data-test=today]"):
            break
        await asyncio.sleep(0.2)
    assert "€6.00" in await phone.text("[data-test=today]")
    await phone.screenshot("people-partner-earnings")
    await phone.click("a[href='/partner/network']")
    assert "Partner 2" in await phone.text("[data-test=network-casino-web]")
    await phone.screenshot("people-partner-network")
    await phone.click("a[href='/partner/payouts']")
    await phone.screenshot("people-partner-payouts")
