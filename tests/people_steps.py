"""Steps of the borrower's and partner's stories over HTTP: signing in with the SMS code through the pages (the
form's token and cookies as a browser keeps them), reading a page's form values."""

from __future__ import annotations

import httpx

from domain.phones import parse_phone
from tests.console_steps import form_value
from tests.helpers import code_in, outbox_messages, wait_for_outbox


async def person_sign_in(
    http: httpx.AsyncClient, phone: str, face: str = "account", country: str = "", language: str = "en"
) -> httpx.Response:
    """Signs in on /account or /partner with the code from the dev outbox; answers the page it lands on."""
    headers = {"Accept-Language": language}
    page = await http.get(f"/{face}/sign-in", headers=headers)
    assert page.status_code == 200, page.text
    e164 = parse_phone(phone, country or None)
    already = len(await outbox_messages(http, e164))
    sent = await http.post(
        f"/{face}/sign-in",
        data={"form_token": form_value(page.text, "form_token"), "country": country, "phone": phone, "next": ""},
        headers=headers,
    )
    assert sent.status_code == 303, sent.text
    code_page = await http.get(sent.headers["location"], headers=headers)
    messages = await wait_for_outbox(http, e164, count=already + 1)
    answer = await http.post(
        f"/{face}/sign-in/code",
        data={"form_token": form_value(code_page.text, "form_token"), "code": code_in(messages[0]["body"])},
        headers=headers,
    )
    assert answer.status_code == 303, answer.text
    return await http.get(answer.headers["location"], headers=headers)


def csrf(page: httpx.Response) -> str:
    return form_value(page.text, "csrf_token")
