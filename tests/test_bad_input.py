"""Bad input to every route that takes a body: a problem+json 422 (or 400 for a provider's unsigned callback), and
nothing in the database changes."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import text

from tests.conftest import Stack
from tests.helpers import admin_token, bearer, borrower_token

BAD_BODIES: list[tuple[bytes, str]] = [
    (b"{not json", "application/json"),
    (b"[]", "application/json"),
    (b'{"unexpected": true}', "application/json"),
    (b'{"amount": 1.5, "currency": 7, "phone": 5, "email": [], "principal": "x"}', "application/json"),
    (b"plain text", "text/plain"),
]
SIGNED_BY_PROVIDER = {"/v1/webhooks/twilio/status", "/v1/webhooks/twilio/inbound", "/v1/webhooks/stripe"}


async def table_counts(stack: Stack) -> dict[str, int]:
    async with stack.sessions() as session:
        tables = (
            await session.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            )
        ).scalars()
        return {t: int(await session.scalar(text(f'SELECT count(*) FROM "{t}"')) or 0) for t in list(tables)}


async def test_every_route_refuses_bad_bodies_and_changes_nothing(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    borrower = await borrower_token(http, "+447700901100")
    await clean.sms.drain()  # the sign-in SMS's delivery callbacks land before the snapshot, not during the test
    before = await table_counts(clean)
    paths = clean.app.openapi()["paths"]
    checked = 0
    for path, operations in paths.items():
        for method, operation in operations.items():
            if method not in ("post", "put") or ("requestBody" not in operation and path not in SIGNED_BY_PROVIDER):
                continue
            concrete = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
            token = admin if path.startswith("/v1/staff") else borrower
            for body, content_type in BAD_BODIES:
                response = await http.request(
                    method.upper(), concrete, content=body,
                    headers={**bearer(token), "Content-Type": content_type},
                )  # fmt: skip
                expected = (400, 401) if path in SIGNED_BY_PROVIDER else (422,)
                assert response.status_code in expected, (method, path, body, response.status_code, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert {"type", "title", "status", "detail", "code"} <= set(response.json())
                checked += 1
    assert checked >= 5 * 15
    assert await table_counts(clean) == before
