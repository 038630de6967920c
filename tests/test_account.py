"""The borrower's personal account over HTTP, as a browser drives it (the browser itself:
tests/test_people_browser.py): sign-in by SMS code with the API's own limits, a calculator that is the engine's
quote, an application made once however often its form is sent, another borrower's loan answered 404, a
double-submitted repayment charged once, and pages in the person's language."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid

import httpx

from tests.conftest import Stack
from tests.console_steps import form_value
from tests.helpers import admin_token, bearer
from tests.origination_steps import TERMS, lending_product
from tests.people_steps import csrf, person_sign_in
from tests.servicing_steps import funded_loan, product_with_terms, settled_payment
from tests.test_wallets import balances, configure, fund, holder


async def test_sign_in_by_sms_code_and_the_pages_in_the_phones_language(http: httpx.AsyncClient, clean: Stack) -> None:
    away = await http.get("/account/loans/" + str(uuid.uuid4()), follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"].startswith("/account/sign-in?next=")
    refused = await http.post("/account/sign-in", data={"form_token": "forged", "phone": "+447700900001"})
    assert refused.status_code == 403
    page = await http.get("/account/sign-in")
    landline = await http.post(
        "/account/sign-in",
        data={"form_token": form_value(page.text, "form_token"), "country": "GB", "phone": "020 7123 4567"},
    )
    assert landline.status_code == 422 and "landline" in landline.text
    home = await person_sign_in(http, "0912 345 678", country="VN")  # typed in the national form
    assert home.status_code == 200
    assert '<html lang="vi">' in home.text and "Tài khoản của bạn" in home.text
    assert home.headers["content-security-policy"].startswith("default-src 'self'")
    cookie = next(c for c in http.cookies.jar if c.name == "lendflow_person")
    assert cookie.has_nonstandard_attr("HttpOnly")
    switched = await http.get("/account/language?to=uk&back=/account", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/account"
    assert '<html lang="uk">' in (await http.get("/account")).text
    nowhere = await http.get("/account/language?to=en&back=https://evil.example", follow_redirects=False)
    assert nowhere.headers["location"] == "/account"


async def test_the_calculator_quotes_and_the_application_form_makes_one_application(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await lending_product(http, admin)
    home = await person_sign_in(http, "+447700961001")
    quoted = await http.get("/account/calculator", params={"product": product_id, "amount": "300", "term": "30"})
    assert quoted.status_code == 200, quoted.text
    assert "£300.00" in quoted.text and "APR" in quoted.text
    bad = await http.get("/account/calculator", params={"product": product_id, "amount": "3.001", "term": "30"})
    assert bad.status_code == 422
    form = {
        "csrf_token": csrf(quoted),
        "key": form_value(quoted.text, "key"),
        "product": product_id,
        "amount": "300",
        "term": "30",
        "full_name": "Alice Example",
        "national_id": "AB123456",
        "birth_date": "1990-05-01",
        "monthly_income": "3000",
    }
    first = await http.post("/account/apply", data=form)
    again = await http.post("/account/apply", data=form)  # the same form sent twice
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    listed = (await http.get("/account")).text
    assert listed.count('data-test="application-in-progress"') == 1
    forged = await http.post("/account/apply", data={**form, "csrf_token": "x" * 43, "key": str(uuid.uuid4())})
    assert forged.status_code == 403
    assert home.status_code == 200


async def test_another_borrowers_loan_is_not_there_and_a_double_repayment_charges_once(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    token_a, loan_a = await funded_loan(http, admin, "+447700961002")
    await person_sign_in(http, "+447700961003")  # borrower B
    assert (await http.get(f"/account/loans/{loan_a}")).status_code == 404
    assert (await http.get(f"/account/loans/{loan_a}/payments")).status_code in (404, 405)
    http.cookies.clear()
    page = await person_sign_in(http, "+447700961002")  # borrower A
    loan_page = await http.get(f"/account/loans/{loan_a}")
    assert loan_page.status_code == 200, loan_page.text
    key = re.findall(r'name="key" value="([^"]+)"', loan_page.text)[0]
    form = {"csrf_token": csrf(loan_page), "key": key, "amount": "50"}
    first = await http.post(f"/account/loans/{loan_a}/repay", data=form)
    second = await http.post(f"/account/loans/{loan_a}/repay", data=form)  # a double click
    assert first.status_code == second.status_code == 303
    payments = (await http.get(f"/v1/loans/{loan_a}/payments", headers=bearer(token_a))).json()["data"]
    assert len(payments) == 1 and payments[0]["amount"] == 5_000
    await settled_payment(http, token_a, loan_a, payments[0]["id"])
    assert page.status_code == 200


async def test_an_application_page_follows_its_steps_and_shows_the_agreement_with_its_pdf(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await lending_product(http, admin)
    await person_sign_in(http, "+447700961004")
    quoted = await http.get("/account/calculator", params={"product": product_id, "amount": "500", "term": "30"})
    form = {
        "csrf_token": csrf(quoted),
        "key": form_value(quoted.text, "key"),
        "product": product_id,
        "amount": "500",
        "term": "30",
        "full_name": "Nguyễn Văn An",
        "national_id": "AB123457",
        "birth_date": "1990-05-01",
        "monthly_income": "3000",
    }
    made = await http.post("/account/apply", data=form)
    app_path = made.headers["location"].split("?")[0]
    page = await http.get(app_path)
    assert 'data-follow="' in page.text and "data-status" in page.text
    offered = await _until_status(http, app_path, "offered")
    accepted = await http.post(app_path + "/accept", data={"csrf_token": csrf(offered)})
    assert accepted.status_code == 303
    signing = await _until_status(http, app_path, "awaiting_signature")
    assert "Nguyễn Văn An" in signing.text  # the agreement on the page
    pdf = await http.get(app_path + "/agreement.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    shown_hash = re.search(r'data-test="pdf-hash">([0-9a-f]{64})<', signing.text)
    assert shown_hash and hashlib.sha256(pdf.content).hexdigest() == shown_hash.group(1)
    wrong = await http.post(app_path + "/sign", data={"csrf_token": csrf(signing), "code": "000000"})
    assert wrong.status_code == 422 and "not right" in wrong.text
    http.cookies.clear()
    await person_sign_in(http, "+447700961005")  # another borrower: neither the page nor its stream
    assert (await http.get(app_path)).status_code == 404
    assert (await http.get(app_path + "/events")).status_code == 404
    assert (await http.get(app_path + "/agreement.pdf")).status_code == 404


async def _until_status(http: httpx.AsyncClient, path: str, status: str, timeout_s: float = 30.0) -> httpx.Response:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        page = await http.get(path)
        if f'data-status="{status}"' in page.text:
            return page
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{path} never reached {status}:\n{page.text[:2000]}")
        await asyncio.sleep(0.2)


async def test_the_calculator_warns_as_the_profile_requires_and_a_transfer_is_shown_before_it_is_made(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    hcstc = await product_with_terms(
        http, admin, "hcstc", "GBP", {**TERMS, "origination_fee_percent": "0"}, profile="uk_fca_hcstc"
    )
    await configure(http, admin)
    alice = await holder(http, "+447700961006", ("USD", "EUR"))
    await fund(http, admin, alice["wallets"]["USD"], 10_000)
    await person_sign_in(http, "+447700961006")
    quoted = await http.get("/account/calculator", params={"product": hcstc, "amount": "200", "term": "30"})
    assert "Late repayment can cause you serious money problems" in quoted.text
    wallets = await http.get("/account/wallets")
    move = {
        "csrf_token": csrf(wallets),
        "from_wallet": alice["wallets"]["USD"],
        "to_wallet": alice["wallets"]["EUR"],
        "amount": "10.00",
    }
    preview = await http.post("/account/transfers/preview", data=move)
    assert preview.status_code == 200, preview.text
    assert '<dd data-test="debited">$10.20</dd>' in preview.text  # 1% and a fixed 0.10 fee
    assert "<strong>€9.00</strong>" in preview.text and "1 USD = 0.9 EUR" in preview.text
    assert await balances(http, alice["token"]) == {"USD": 10_000, "EUR": 0}  # a preview moves nothing
    confirm = {**move, "key": form_value(preview.text, "key")}
    first = await http.post("/account/transfers", data=confirm)
    second = await http.post("/account/transfers", data=confirm)  # the confirm button pressed twice
    assert first.status_code == second.status_code == 303
    assert await balances(http, alice["token"]) == {"USD": 8_980, "EUR": 900}
    too_much = await http.post("/account/transfers/preview", data={**move, "amount": "5000"})
    assert too_much.status_code == 422 and "outside the limits" in too_much.text


async def test_a_wallet_is_topped_up_from_the_linked_card_and_paid_out_to_it(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    type_ = {
        "currencies": ["GBP"],
        "min": {"amount": 1, "currency": "GBP"},
        "max": {"amount": 10**7, "currency": "GBP"},
    }
    assert (await http.put("/v1/staff/wallet-types/main", json=type_, headers=bearer(admin))).status_code == 200
    token, _ = await funded_loan(http, admin, "+447700961007")  # the card linked for the loan
    opened = await http.post("/v1/wallets", json={"type": "main", "currency": "GBP"}, headers=bearer(token))
    assert opened.status_code == 201, opened.text
    await person_sign_in(http, "+447700961007")
    page = await http.get("/account/wallets")
    card = re.search(r'name="card"><option value="([0-9a-f-]{36})">', page.text)
    assert card, page.text
    keys = re.findall(r'name="key" value="([^"]+)"', page.text)
    form = {"csrf_token": csrf(page), "wallet": opened.json()["id"], "card": card.group(1)}
    topped = await http.post("/account/wallets/topup", data={**form, "key": keys[0], "amount": "20.00"})
    assert topped.status_code == 303 and topped.headers["location"].endswith("done=topped_up")
    for _ in range(150):
        wallet = (await http.get("/v1/wallets", headers=bearer(token))).json()["data"][0]
        if wallet["balance"]["amount"] == 2_000:
            break
        await asyncio.sleep(0.1)
    assert wallet["balance"]["amount"] == 2_000
    paid = await http.post("/account/wallets/payout", data={**form, "key": keys[1], "amount": "5"})
    assert paid.status_code == 303 and paid.headers["location"].endswith("done=paid_out")
    for _ in range(150):
        wallet = (await http.get("/v1/wallets", headers=bearer(token))).json()["data"][0]
        if wallet["balance"]["amount"] == 1_500:
            break
        await asyncio.sleep(0.1)
    assert wallet["balance"]["amount"] == 1_500
    nothing = await http.post("/account/wallets/payout", data={**form, "key": str(uuid.uuid4()), "amount": "abc"})
    assert nothing.status_code == 422
