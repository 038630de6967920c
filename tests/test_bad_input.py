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
                    method.upper(),
                    concrete,
                    content=body,
                    headers={**bearer(token), "Content-Type": content_type},
                )
                expected = (400, 401) if path in SIGNED_BY_PROVIDER else (422,)
                assert response.status_code in expected, (method, path, body, response.status_code, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert {"type", "title", "status", "detail", "code"} <= set(response.json())
                checked += 1
    assert checked >= 5 * 15
    assert await table_counts(clean) == before


def _phone_in(zero: int) -> bytes:
    """+447700900123 written in the digits of another script (its zero at code point `zero`)."""
    digits = "447700900123".translate({ord("0") + n: chr(zero + n) for n in range(10)})
    return ('{"phone": "+' + digits + '"}').encode()


def _deep(levels: int) -> bytes:
    return b'{"a": ' * levels + b"1" + b"}" * levels


EDGE_CASES: list[tuple[str, str, bytes, str]] = [
    # (who, path, body, what is wrong); each must be a 4xx problem and change nothing
    (
        "admin",
        "/v1/staff/blacklist",
        b'{"kind": "phone", "value": "+447700900001\\u0000", "reason": "fraud ring"}',
        "NUL in a string",
    ),
    (
        "admin",
        "/v1/staff/blacklist",
        b'{"kind": "phone", "value": "+447700900001", "reason": "lone \\ud800 here"}',
        "a lone surrogate",
    ),
    (
        "admin",
        "/v1/staff/members",
        b'{"email": "a@b.co", "password": "long-enough-pass", "roles": ["support"], "projects": ["x\\u0000"]}',
        "NUL in a list of codes",
    ),
    (
        "admin",
        "/v1/staff/projects",
        b'{"code": "casino", "name": "Cas\\u0001ino", "currency": "EUR",'
        b' "points_per_unit": "1", "plan": {"levels": ["10", "5", "3"]}, "accrual": "realtime"}',
        "a control character",
    ),
    (
        "admin",
        "/v1/staff/fx-rates",
        b'{"base": "USD", "quote": "EUR", "rate": "1e999999", "valid_from": "2026-01-01T00:00:00Z"}',
        "a rate too large to store",
    ),
    (
        "admin",
        "/v1/staff/fx-rates",
        b'{"base": "USD", "quote": "EUR", "rate": "1e-999999", "valid_from": "2026-01-01T00:00:00Z"}',
        "a rate too small to store",
    ),
    (
        "admin",
        "/v1/staff/fx-rates",
        b'{"base": "USD", "quote": "EUR", "rate": "0.9", "valid_from": "1397-01-01T00:00:00Z"}',
        "a date outside the window",
    ),
    ("borrower", "/v1/auth/otp", _phone_in(0xFF10), "fullwidth digits"),
    ("borrower", "/v1/auth/otp", _phone_in(0x0660), "Arabic-Indic digits"),
    ("borrower", "/v1/auth/otp", _phone_in(0x0966), "Devanagari digits"),
    (
        "borrower",
        "/v1/transfers",
        b'{"from_wallet": "00000000-0000-0000-0000-000000000000",'
        b' "to_wallet": "00000000-0000-0000-0000-000000000001", "amount": {"amount": "1000", "currency": "USD"}}',
        "money as a string",
    ),
    (
        "borrower",
        "/v1/loans/00000000-0000-0000-0000-000000000000/repayments",
        b'{"amount": "1000"}',
        "a repayment amount as a string",
    ),
    (
        "borrower",
        "/v1/loans/00000000-0000-0000-0000-000000000000/repayments",
        b'{"amount": true}',
        "a repayment amount as a boolean",
    ),
    (
        "borrower",
        "/v1/loans/00000000-0000-0000-0000-000000000000/repayments",
        b'{"amount": 1e2}',
        "a repayment amount as a decimal",
    ),
    ("borrower", "/v1/wallets", _deep(40), "JSON nested too deep"),
    ("admin", "/v1/staff/cob", b'{"until": "2199-01-01"}', "close of business too far ahead"),
]


async def test_text_numbers_and_dates_outside_what_is_stored_are_refused_and_change_nothing(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    tokens = {"admin": await admin_token(http, clean.settings), "borrower": await borrower_token(http, "+447700901101")}
    await clean.sms.drain()
    before = await table_counts(clean)
    for who, path, body, what in EDGE_CASES:
        response = await http.post(
            path, content=body, headers={**bearer(tokens[who]), "Content-Type": "application/json"}
        )
        assert 400 <= response.status_code < 500 and response.status_code != 404, (what, response.text)
        assert response.headers["content-type"] == "application/problem+json", what
    for query in (
        "/v1/staff/audit?starting_after=1.3e23",
        "/v1/staff/audit?starting_after=99999999999999999999",
        "/v1/staff/collections?offset=99999999999",
        "/v1/staff/audit?action=a%00b",
    ):
        response = await http.get(query, headers=bearer(tokens["admin"]))
        assert response.status_code == 422, (query, response.text)
    assert await table_counts(clean) == before


async def test_signed_callbacks_nested_too_deep_are_refused_not_crashed(http: httpx.AsyncClient, clean: Stack) -> None:
    from api.ingest.routes import signature_of
    from providers.credit.signature import sign_body

    deep = _deep(5_000)
    bureau = await http.post(
        "/v1/webhooks/bureau/scoring",
        content=deep,
        headers={"X-Signature": sign_body(clean.settings.credit_webhook_secret, deep)},
    )
    assert bureau.status_code == 422, bureau.text
    ingest = await http.post(
        "/v1/ingest/none/none", content=deep, headers={"X-Signature": signature_of("any-secret-0123456789", deep)}
    )
    assert ingest.status_code == 422, ingest.text
