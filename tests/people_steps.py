"""Steps of the borrower's and partner's stories over HTTP: signing in with the SMS code through the pages (the
form's token and cookies as a browser keeps them), reading a page's form values."""

from __future__ import annotations

import asyncio

import httpx

from domain.phones import parse_phone
from tests.console_steps import form_value
from tests.helpers import code_in, outbox_messages


async def person_sign_in(
    http: httpx.AsyncClient, phone: str, face: str = "account", country: str = "", language: str = "en"
) -> httpx.Response:
    """Signs in on /account or /partner with the code from the dev outbox; answers the page it lands on."""
    headers = {"Accept-Language": language}
    page = await http.get(f"/{face}/sign-in", headers=headers)
    assert page.status_code == 200, page.text
    e164 = parse_phone(phone, country or None)
    already = len([m for m in await outbox_messages(http, e164) if m["purpose"] == "sign_in"])
    sent = await http.post(
        f"/{face}/sign-in",
        data={"form_token": form_value(page.text, "form_token"), "country": country, "phone": phone, "next": ""},
        headers=headers,
    )
    assert sent.status_code == 303, sent.text
    code_page = await http.get(sent.headers["location"], headers=headers)
    code = await _new_sign_in_code(http, e164, already)
    answer = await http.post(
        f"/{face}/sign-in/code",
        data={"form_token": form_value(code_page.text, "form_token"), "code": code},
        headers=headers,
    )
    assert answer.status_code == 303, answer.text
    return await http.get(answer.headers["location"], headers=headers)


async def _new_sign_in_code(http: httpx.AsyncClient, phone: str, already: int) -> str:
    """The code of the sign-in message sent after `already` others (other messages may arrive meanwhile)."""
    for _ in range(150):
        codes = [m for m in await outbox_messages(http, phone) if m["purpose"] == "sign_in"]
        if len(codes) > already:
            return code_in(codes[0]["body"])
        await asyncio.sleep(0.1)
    raise AssertionError(f"no new sign-in code reached {phone}")


def csrf(page: httpx.Response) -> str:
    return form_value(page.text, "csrf_token")
