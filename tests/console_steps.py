"""Steps of the console stories: signing in through the form (CSRF token and cookie as a browser keeps them),
reading a page's CSRF token, posting its forms."""

from __future__ import annotations

import re

import httpx
import pyotp

from config.settings import Settings


def form_value(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)


async def console_sign_in(
    http: httpx.AsyncClient, email: str, password: str, totp_secret: str | None = None
) -> httpx.Response:
    """Signs in as a browser would; answers the page the console lands on."""
    page = await http.get("/console/sign-in")
    assert page.status_code == 200, page.text
    answer = await http.post(
        "/console/sign-in",
        data={"form_token": form_value(page.text, "form_token"), "email": email, "password": password},
    )
    if answer.status_code != 303:
        return answer
    target = answer.headers["location"]
    if target.endswith("/sign-in/code"):
        code_page = await http.get(target)
        if totp_secret is None:
            return code_page  # the caller answers the code itself
        answer = await http.post(
            target, data={"csrf_token": form_value(code_page.text, "csrf_token"), "code": pyotp.TOTP(totp_secret).now()}
        )
        assert answer.status_code == 303, answer.text
        target = answer.headers["location"]
    return await http.get(target)


async def console_admin(http: httpx.AsyncClient, settings: Settings) -> httpx.Response:
    return await console_sign_in(http, settings.admin_email, settings.admin_password)


def csrf_of(page: httpx.Response) -> str:
    return form_value(page.text, "csrf_token")
