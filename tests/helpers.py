"""Steps the stories in the tests share: signing in as a person would, reading the fake outbox."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx

from config.settings import Settings


async def outbox_messages(http: httpx.AsyncClient, to: str) -> list[dict[str, Any]]:
    response = await http.get("/v1/dev/outbox", params={"to": to})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def wait_for_outbox(
    http: httpx.AsyncClient, to: str, *, status: str | None = None, count: int = 1, timeout_s: float = 15.0
) -> list[dict[str, Any]]:
    """Messages to `to`, once `count` of them exist (and, if asked, the newest reached `status`)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        messages = await outbox_messages(http, to)
        if len(messages) >= count and (status is None or messages[0]["status"] == status):
            return messages
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"outbox for {to} never reached {count} message(s) with status {status}: {messages}")
        await asyncio.sleep(0.1)


def code_in(body: str) -> str:
    found = re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


async def borrower_token(http: httpx.AsyncClient, phone: str) -> str:
    already = len(await outbox_messages(http, phone))
    assert (await http.post("/v1/auth/otp", json={"phone": phone})).status_code == 202
    messages = await wait_for_outbox(http, phone, count=already + 1)
    response = await http.post("/v1/auth/token", json={"phone": phone, "code": code_in(messages[0]["body"])})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def staff_token(http: httpx.AsyncClient, email: str, password: str) -> str:
    response = await http.post("/v1/staff/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def admin_token(http: httpx.AsyncClient, settings: Settings) -> str:
    return await staff_token(http, settings.admin_email, settings.admin_password)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
