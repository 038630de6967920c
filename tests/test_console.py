"""The staff console over HTTP, as a browser drives it (the browser itself: tests/test_console_browser.py): sign-in
with a password and a TOTP code, CSRF tokens on every form, roles that close pages and refuse their forms, and a
session that ends when its member is disabled or their roles change. Every action goes through the API."""

from __future__ import annotations

import re

import httpx
import pyotp

from tests.conftest import Stack
from tests.console_steps import console_admin, console_sign_in, csrf_of, form_value
from tests.helpers import admin_token, bearer

PASSWORD = "a-long-staff-password"


async def _member(http: httpx.AsyncClient, stack: Stack, email: str, *roles: str) -> str:
    admin = await admin_token(http, stack.settings)
    made = await http.post(
        "/v1/staff/members", headers=bearer(admin), json={"email": email, "password": PASSWORD, "roles": list(roles)}
    )
    assert made.status_code == 201, made.text
    member_id: str = made.json()["id"]
    return member_id


async def test_a_member_signs_in_sees_their_menu_and_the_dashboard_draws_charts(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    assert (await http.get("/console", follow_redirects=False)).headers["location"].startswith("/console/sign-in")
    home = await console_admin(http, clean.settings)
    assert home.status_code == 200
    assert 'data-page="staff"' in home.text and 'data-page="products"' in home.text
    assert "<svg" in home.text or "nothing to show yet" in home.text
    assert home.headers["content-security-policy"].startswith("default-src 'self'")
    cookie = next(c for c in http.cookies.jar if c.name == "lendflow_console")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/console"
    await _member(http, clean, "coll@lendflow.dev", "collector")
    http.cookies.clear()
    collector = await console_sign_in(http, "coll@lendflow.dev", PASSWORD)
    assert 'data-page="collections"' in collector.text
    assert 'data-page="products"' not in collector.text and 'data-page="staff"' not in collector.text


async def test_a_wrong_password_is_refused_and_many_are_throttled(http: httpx.AsyncClient, clean: Stack) -> None:
    for _ in range(5):
        refused = await console_sign_in(http, clean.settings.admin_email, "not-the-password")
        assert refused.status_code == 401
        assert "not valid" in refused.text
    throttled = await console_sign_in(http, clean.settings.admin_email, "not-the-password")
    assert throttled.status_code == 429


async def test_a_form_without_the_sessions_token_is_refused_and_does_nothing(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    home = await console_admin(http, clean.settings)
    forged = await http.post("/console/products", data={"code": "forged", "name": "Forged", "currency": "GBP"})
    assert forged.status_code == 403 and "nothing was done" in forged.text
    other = await http.post(
        "/console/products", data={"csrf_token": "x" * 43, "code": "forged", "name": "Forged", "currency": "GBP"}
    )
    assert other.status_code == 403
    admin = await admin_token(http, clean.settings)
    listed = (await http.get("/v1/staff/products", headers=bearer(admin))).json()["data"]
    assert listed == []
    made = await http.post(
        "/console/products", data={"csrf_token": csrf_of(home), "code": "real", "name": "Real", "currency": "GBP"}
    )
    assert made.status_code == 303


async def test_a_collector_gets_no_product_configurator_and_a_403_for_its_form(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    home = await console_admin(http, clean.settings)
    made = await http.post(
        "/console/products", data={"csrf_token": csrf_of(home), "code": "payday", "name": "Payday", "currency": "GBP"}
    )
    product_id = made.headers["location"].split("/")[-1].split("?")[0]
    await _member(http, clean, "coll2@lendflow.dev", "collector")
    http.cookies.clear()
    page = await console_sign_in(http, "coll2@lendflow.dev", PASSWORD)
    assert (await http.get("/console/products")).status_code == 403
    posted = await http.post(
        f"/console/products/{product_id}/versions", data={"csrf_token": csrf_of(page), "principal_min": "50"}
    )
    assert posted.status_code == 403
    admin = await admin_token(http, clean.settings)
    product = (await http.get("/v1/staff/products", headers=bearer(admin))).json()["data"][0]
    assert product["versions"] == []


async def test_a_disabled_member_is_signed_out_on_the_next_click(http: httpx.AsyncClient, clean: Stack) -> None:
    member_id = await _member(http, clean, "acc@lendflow.dev", "accountant")
    page = await console_sign_in(http, "acc@lendflow.dev", PASSWORD)
    assert page.status_code == 200 and "acc@lendflow.dev" in page.text
    admin = await admin_token(http, clean.settings)
    changed = await http.patch(f"/v1/staff/members/{member_id}", headers=bearer(admin), json={"roles": ["support"]})
    assert changed.status_code == 200
    moved = await http.get("/console/loans", follow_redirects=False)
    assert moved.status_code == 303 and "sign-in" in moved.headers["location"]
    page = await console_sign_in(http, "acc@lendflow.dev", PASSWORD)
    assert page.status_code == 200
    await http.patch(f"/v1/staff/members/{member_id}", headers=bearer(admin), json={"active": False})
    gone = await http.get("/console", follow_redirects=False)
    assert gone.status_code == 303
    assert "disabled" in (await http.get(gone.headers["location"])).text or "ended" in gone.headers["location"]


async def test_a_second_factor_is_enrolled_then_asked_for_and_a_code_works_once(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    await _member(http, clean, "two@lendflow.dev", "support")
    account = await console_sign_in(http, "two@lendflow.dev", PASSWORD)
    account = await http.get("/console/account")
    assert 'data-test="two-factor">off' in account.text
    enrol = await http.post("/console/account/two-factor", data={"csrf_token": csrf_of(account)})
    page = await http.get(enrol.headers["location"])
    secret = re.search(r'data-test="totp-secret">([A-Z2-7]+)<', page.text)
    assert secret and "<svg" in page.text
    wrong = await http.post("/console/sign-in/enrol", data={"csrf_token": csrf_of(page), "code": "000000"})
    assert wrong.status_code == 422
    code = pyotp.TOTP(secret.group(1)).now()
    done = await http.post(
        "/console/sign-in/enrol", data={"csrf_token": form_value(wrong.text, "csrf_token"), "code": code}
    )
    assert done.status_code == 303
    assert 'data-test="two-factor">on' in (await http.get("/console/account")).text
    http.cookies.clear()
    again = await console_sign_in(http, "two@lendflow.dev", PASSWORD)
    assert "Two-factor check" in again.text  # the password alone no longer opens the console
    reused = await http.post("/console/sign-in/code", data={"csrf_token": csrf_of(again), "code": code})
    assert reused.status_code == 422  # the code that enrolled cannot sign in a second time
    assert (await http.get("/console", follow_redirects=False)).status_code == 303
