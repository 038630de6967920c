"""Staff sign in with e-mail and password; roles decide what they may do; every action is in the audit log."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from store.models import AuditRecord, StaffMember
from tests.conftest import Stack
from tests.helpers import admin_token, bearer, staff_token


async def add_member(http: httpx.AsyncClient, admin: str, email: str, roles: list[str]) -> httpx.Response:
    return await http.post(
        "/v1/staff/members",
        json={"email": email, "password": "correct horse battery", "roles": roles},
        headers=bearer(admin),
    )


async def test_the_first_admin_signs_in_and_sees_their_roles(http: httpx.AsyncClient, clean: Stack) -> None:
    response = await http.post(
        "/v1/staff/token", json={"email": clean.settings.admin_email, "password": clean.settings.admin_password}
    )
    assert response.status_code == 200
    assert response.json()["roles"] == ["admin"]
    assert response.json()["token_type"] == "bearer"
    me = await http.get("/v1/staff/me", headers=bearer(response.json()["access_token"]))
    assert me.json()["email"] == clean.settings.admin_email


async def test_a_bad_password_and_an_unknown_email_get_the_same_answer(http: httpx.AsyncClient, clean: Stack) -> None:
    bad_password = await http.post("/v1/staff/token", json={"email": clean.settings.admin_email, "password": "wrong"})
    unknown = await http.post("/v1/staff/token", json={"email": "nobody@lendflow.dev", "password": "wrong"})
    assert bad_password.status_code == unknown.status_code == 401
    assert bad_password.json() == unknown.json()


def _from(stack: Stack, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.app, client=(address, 40_000)), base_url="http://testserver"
    )


async def test_a_guesser_is_throttled_but_the_owner_is_not_locked_out(clean: Stack) -> None:
    email, password = clean.settings.admin_email, clean.settings.admin_password
    async with _from(clean, "203.0.113.66") as guesser, _from(clean, "198.51.100.7") as owner:
        for _ in range(5):
            answer = await guesser.post("/v1/staff/token", json={"email": email, "password": "guess"})
            assert answer.status_code == 401
        refused = await guesser.post("/v1/staff/token", json={"email": email, "password": password})
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 60  # even the right password
        # The owner, from their own address, waits at most the backoff (seconds), never the guesser's window.
        answer = await owner.post("/v1/staff/token", json={"email": email, "password": password})
        if answer.status_code == 429:
            wait = int(answer.headers["Retry-After"])
            assert wait <= 60
            await asyncio.sleep(wait)
            answer = await owner.post("/v1/staff/token", json={"email": email, "password": password})
        assert answer.status_code == 200, answer.text


async def test_an_admin_adds_an_underwriter_who_cannot_add_staff(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    created = await add_member(http, admin, "uma@lendflow.dev", ["underwriter"])
    assert created.status_code == 201, created.text
    underwriter = await staff_token(http, "uma@lendflow.dev", "correct horse battery")
    refused = await add_member(http, underwriter, "eve@lendflow.dev", ["admin"])
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    assert (await http.get("/v1/staff/audit", headers=bearer(underwriter))).status_code == 403


async def test_support_reads_the_audit_log_of_staff_actions(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    assert (await add_member(http, admin, "sam@lendflow.dev", ["support"])).status_code == 201
    support = await staff_token(http, "sam@lendflow.dev", "correct horse battery")
    page = await http.get("/v1/staff/audit", params={"action": "staff.member_added"}, headers=bearer(support))
    assert page.status_code == 200
    [record] = page.json()["data"]
    assert record["actor_label"] == clean.settings.admin_email
    assert record["details"]["roles"] == ["support"]
    assert record["request_id"]


async def test_the_audit_log_pages_newest_first(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    for n in range(5):
        assert (await add_member(http, admin, f"s{n}@lendflow.dev", ["support"])).status_code == 201
    first = (await http.get("/v1/staff/audit", params={"limit": 3}, headers=bearer(admin))).json()
    assert first["has_more"] is True
    after = first["data"][-1]["id"]
    second = (
        await http.get("/v1/staff/audit", params={"limit": 3, "starting_after": after}, headers=bearer(admin))
    ).json()
    ids = [r["id"] for r in first["data"] + second["data"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids)


async def test_a_duplicate_staff_email_is_a_conflict(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    assert (await add_member(http, admin, "dup@lendflow.dev", ["collector"])).status_code == 201
    again = await add_member(http, admin, "DUP@lendflow.dev", ["collector"])
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"


async def test_invalid_staff_input_changes_nothing(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    for body in (
        {"email": "x@lendflow.dev", "password": "short", "roles": ["support"]},
        {"email": "not-an-email", "password": "correct horse battery", "roles": ["support"]},
        {"email": "x@lendflow.dev", "password": "correct horse battery", "roles": ["overlord"]},
        {"email": "x@lendflow.dev", "password": "correct horse battery", "roles": []},
    ):
        response = await http.post("/v1/staff/members", json=body, headers=bearer(admin))
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
    async with clean.sessions() as session:
        assert (await session.scalars(select(StaffMember.email))).all() == [clean.settings.admin_email]


async def test_the_audit_log_cannot_be_rewritten(http: httpx.AsyncClient, clean: Stack) -> None:
    await admin_token(http, clean.settings)
    async with clean.sessions() as session:
        assert (await session.scalars(select(AuditRecord))).first() is not None
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text("UPDATE audit_log SET action = 'nothing'"))
        await session.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text("DELETE FROM audit_log"))
