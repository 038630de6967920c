"""docs/access.md is the contract for staff access, and this test holds the code to it: every staff route, called
by a staff member of every role, answers 403 exactly where the table does not list the role; no staff route is
missing from the table. Then the rest of access as a person would meet it: project scopes, and a disabled or
demoted colleague losing access on their very next request."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from api.security.tokens import STAFF_ROLES
from tests.conftest import Stack
from tests.helpers import admin_token, bearer, staff_token

ACCESS_DOC = Path(__file__).resolve().parent.parent / "docs" / "access.md"
PASSWORD = "correct horse battery staple"
PLACEHOLDERS = {
    "code": "no-such-project",
    "name": "no-such-integration",
    "period": "2026-11",
    "entry_id": "1",
    "account_id": "1",
    "recalculation_id": "1",
    "name_report": "daily",
}
NOT_A_BODY = {"not_a_field": True}  # refused by every body (extra fields are forbidden): nothing ever changes


def documented_matrix() -> dict[tuple[str, str], set[str]]:
    rows = {}
    for line in ACCESS_DOC.read_text().splitlines():
        found = re.match(r"^\| (GET|POST|PUT|PATCH|DELETE) \| (/v1/staff\S*) \|([a-z, ]*)\|$", line)
        if found:
            method, path, roles = found.groups()
            rows[(method, path)] = {"admin", *(r.strip() for r in roles.split(",") if r.strip())}
    return rows


def concrete(path: str) -> str:
    path = path.replace("/reports/{name}", "/reports/daily")
    return re.sub(
        r"\{([a-z_]+)\}", lambda m: PLACEHOLDERS.get(m.group(1), "00000000-0000-0000-0000-000000000000"), path
    )


async def tokens_by_role(http: httpx.AsyncClient, stack: Stack, admin: str) -> dict[str, str]:
    tokens = {"admin": admin}
    for role in STAFF_ROLES:
        if role == "admin":
            continue
        email = f"{role}@lendflow.dev"
        created = await http.post(
            "/v1/staff/members", headers=bearer(admin), json={"email": email, "password": PASSWORD, "roles": [role]}
        )
        assert created.status_code == 201, created.text
        tokens[role] = await staff_token(http, email, PASSWORD)
    return tokens


async def test_every_staff_route_admits_exactly_the_roles_docs_access_lists(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    matrix = documented_matrix()
    routes = {
        (method.upper(), path)
        for path, operations in clean.app.openapi()["paths"].items()
        for method in operations
        if path.startswith("/v1/staff") and path != "/v1/staff/token"
    }
    assert routes == set(matrix), {"undocumented": routes - set(matrix), "gone": set(matrix) - routes}
    tokens = await tokens_by_role(http, clean, await admin_token(http, clean.settings))
    wrong: list[str] = []
    for (method, path), allowed in sorted(matrix.items()):
        for role, token in tokens.items():
            kwargs: dict[str, Any] = {"headers": bearer(token)}
            if method in ("POST", "PUT", "PATCH"):
                kwargs["json"] = NOT_A_BODY
            answer = await http.request(method, concrete(path), **kwargs)
            refused = answer.status_code == 403
            if answer.status_code == 401 or refused == (role in allowed) or answer.status_code >= 500:
                wrong.append(f"{method} {path} as {role}: {answer.status_code}")
    assert wrong == []


async def test_a_project_scoped_accountant_acts_on_their_projects_only(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    for code in ("alpha", "beta"):
        created = await http.post(
            "/v1/staff/projects",
            headers=bearer(admin),
            json={
                "code": code,
                "name": code.title(),
                "currency": "EUR",
                "points_per_unit": "1",
                "plan": {"levels": ["10", "5", "3"]},
                "accrual": "period",
                "period": "month",
            },
        )
        assert created.status_code == 201, created.text
    made = await http.post(
        "/v1/staff/members",
        headers=bearer(admin),
        json={"email": "acc.alpha@lendflow.dev", "password": PASSWORD, "roles": ["accountant"], "projects": ["alpha"]},
    )
    assert made.status_code == 201, made.text
    accountant = await staff_token(http, "acc.alpha@lendflow.dev", PASSWORD)
    listed = await http.get("/v1/staff/projects", headers=bearer(accountant))
    assert [p["code"] for p in listed.json()["data"]] == ["alpha"]
    other = await http.post("/v1/staff/projects/beta/periods/2020-01/close", headers=bearer(accountant))
    assert other.status_code == 403, other.text
    upload = await http.post(
        "/v1/staff/projects/beta/integrations/csv/uploads", headers=bearer(accountant), content=b"id,type\n"
    )
    assert upload.status_code == 403


async def test_a_disabled_or_demoted_colleague_loses_access_on_the_next_request(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    made = await http.post(
        "/v1/staff/members",
        headers=bearer(admin),
        json={"email": "carol@lendflow.dev", "password": PASSWORD, "roles": ["accountant"]},
    )
    carol_id = made.json()["id"]
    carol = await staff_token(http, "carol@lendflow.dev", PASSWORD)
    assert (await http.get("/v1/staff/audit", headers=bearer(carol))).status_code == 200

    demoted = await http.patch(f"/v1/staff/members/{carol_id}", headers=bearer(admin), json={"roles": ["support"]})
    assert demoted.status_code == 200 and demoted.json()["roles"] == ["support"]
    assert (await http.post("/v1/staff/cob", headers=bearer(carol), json={"until": "2026-01-01"})).status_code == 403

    disabled = await http.patch(f"/v1/staff/members/{carol_id}", headers=bearer(admin), json={"active": False})
    assert disabled.status_code == 200 and disabled.json()["active"] is False
    assert (await http.get("/v1/staff/audit", headers=bearer(carol))).status_code == 401
    again = await http.post("/v1/staff/token", json={"email": "carol@lendflow.dev", "password": PASSWORD})
    assert again.status_code == 401
    myself = (await http.get("/v1/staff/me", headers=bearer(admin))).json()["id"]
    assert (
        await http.patch(f"/v1/staff/members/{myself}", headers=bearer(admin), json={"active": False})
    ).status_code == 409
    actions = {a["action"] for a in (await http.get("/v1/staff/audit", headers=bearer(admin))).json()["data"]}
    assert "staff.member_changed" in actions
