"""A borrower or partner signs in with a one-time code sent by SMS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update

from store.models import OtpChallenge, User
from tests.conftest import Stack
from tests.helpers import bearer, borrower_token, code_in, outbox_messages, wait_for_outbox

PHONE = "+447700900123"


async def test_borrower_signs_in_with_the_code_from_the_sms(http: httpx.AsyncClient, clean: Stack) -> None:
    token = await borrower_token(http, PHONE)
    messages = await wait_for_outbox(http, PHONE, status="delivered")
    assert messages[0]["purpose"] == "sign_in"
    # The token is a borrower's: staff routes refuse it.
    response = await http.get("/v1/staff/audit", headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


async def test_the_same_phone_signs_in_as_the_same_user(http: httpx.AsyncClient, clean: Stack) -> None:
    await borrower_token(http, PHONE)
    await borrower_token(http, "+44 7700-900123")  # the same number, typed differently
    async with clean.sessions() as session:
        users = (await session.scalars(select(User))).all()
    assert len(users) == 1
    assert PHONE.encode() not in users[0].phone_encrypted  # stored encrypted


async def test_a_wrong_code_and_an_expired_code_get_the_same_answer(http: httpx.AsyncClient, clean: Stack) -> None:
    assert (await http.post("/v1/auth/otp", json={"phone": PHONE})).status_code == 202
    code = code_in((await wait_for_outbox(http, PHONE))[0]["body"])
    wrong = "000000" if code != "000000" else "111111"
    wrong_answer = await http.post("/v1/auth/token", json={"phone": PHONE, "code": wrong})

    async with clean.sessions.begin() as session:
        await session.execute(update(OtpChallenge).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired_answer = await http.post("/v1/auth/token", json={"phone": PHONE, "code": code})
    unknown_phone = await http.post("/v1/auth/token", json={"phone": "+447700900999", "code": code})

    for answer in (wrong_answer, expired_answer, unknown_phone):
        assert answer.status_code == 401
        assert answer.headers["content-type"] == "application/problem+json"
    assert wrong_answer.json() == expired_answer.json() == unknown_phone.json()


async def test_five_wrong_guesses_burn_the_code(http: httpx.AsyncClient, clean: Stack) -> None:
    assert (await http.post("/v1/auth/otp", json={"phone": PHONE})).status_code == 202
    code = code_in((await wait_for_outbox(http, PHONE))[0]["body"])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(clean.settings.otp_max_attempts):
        assert (await http.post("/v1/auth/token", json={"phone": PHONE, "code": wrong})).status_code == 401
    late_but_right = await http.post("/v1/auth/token", json={"phone": PHONE, "code": code})
    assert late_but_right.status_code == 401


async def test_codes_are_kept_only_as_hashes(http: httpx.AsyncClient, clean: Stack) -> None:
    assert (await http.post("/v1/auth/otp", json={"phone": PHONE})).status_code == 202
    code = code_in((await wait_for_outbox(http, PHONE))[0]["body"])
    async with clean.sessions() as session:
        challenge = (await session.scalars(select(OtpChallenge))).one()
    assert code.encode() not in challenge.code_hash
    assert len(challenge.code_hash) == 32


async def test_a_new_code_replaces_the_previous_one(http: httpx.AsyncClient, clean: Stack) -> None:
    assert (await http.post("/v1/auth/otp", json={"phone": PHONE})).status_code == 202
    first = code_in((await wait_for_outbox(http, PHONE))[0]["body"])
    assert (await http.post("/v1/auth/otp", json={"phone": PHONE})).status_code == 202
    second = code_in((await wait_for_outbox(http, PHONE, count=2))[0]["body"])
    if first != second:
        assert (await http.post("/v1/auth/token", json={"phone": PHONE, "code": first})).status_code == 401
    assert (await http.post("/v1/auth/token", json={"phone": PHONE, "code": second})).status_code == 200


async def test_codes_are_rate_limited_per_phone(http: httpx.AsyncClient, clean: Stack) -> None:
    for _ in range(clean.settings.otp_max_per_phone):
        assert (await http.post("/v1/auth/otp", json={"phone": PHONE})).status_code == 202
    refused = await http.post("/v1/auth/otp", json={"phone": PHONE})
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert "retry-after" in refused.headers
    await wait_for_outbox(http, PHONE, count=clean.settings.otp_max_per_phone)
    assert len(await outbox_messages(http, PHONE)) == clean.settings.otp_max_per_phone


async def test_codes_are_rate_limited_per_client_address(http: httpx.AsyncClient, clean: Stack) -> None:
    limit = clean.settings.otp_max_per_address
    for n in range(limit):
        assert (await http.post("/v1/auth/otp", json={"phone": f"+4477009{n:05d}"})).status_code == 202
    refused = await http.post("/v1/auth/otp", json={"phone": "+447711111111"})
    assert refused.status_code == 429


async def test_a_malformed_phone_is_refused_and_nothing_is_sent(http: httpx.AsyncClient, clean: Stack) -> None:
    for body in ({"phone": "12345"}, {"phone": "+44abc"}, {}, {"phone": PHONE, "extra": 1}):
        response = await http.post("/v1/auth/otp", json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"
    async with clean.sessions() as session:
        assert (await session.scalars(select(OtpChallenge))).first() is None
    assert clean.sms.sent == []
