"""Staff accounts (admins): list, invite with roles and project scopes, change roles, disable, reset a lost second
factor. A change ends the member's console sessions at once (the API does it with the change)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from web.console.api_client import ApiProblem
from web.console.pages.common import Signed, api, back_to, page, problem_status

router = APIRouter()
ROLES = ("admin", "underwriter", "collector", "accountant", "support")


async def _staff_page(console: Signed, status: int = 200, after: str = "", **extra: Any) -> HTMLResponse:
    async with api(console) as client:
        found = await client.get("/v1/staff/members", limit=100, starting_after=after or None)
    return page(
        console,
        "staff.html",
        "staff",
        http_status=status,
        members=found["data"],
        has_more=found["has_more"],
        roles=ROLES,
        **extra,
    )


@router.get("/staff", response_class=HTMLResponse)
async def members(console: Signed, flash: str = "", after: str = "") -> HTMLResponse:
    console.require("admin")
    return await _staff_page(console, after=after, flash=flash)


def _projects(text: str) -> list[str]:
    return [p.strip() for p in text.split(",") if p.strip()]


@router.post("/staff")
async def invite(console: Signed) -> Response:
    console.require("admin")
    form = await console.form()
    body = {
        "email": form.get("email", "").strip(),
        "password": form.get("password", ""),
        "roles": [role for role in ROLES if form.get(f"role_{role}") == "on"],
        "projects": _projects(form.get("projects", "")),
    }
    try:
        async with api(console) as client:
            await client.send("POST", "/v1/staff/members", body)
    except ApiProblem as problem:
        return await _staff_page(console, problem_status(problem), problem=problem)
    return back_to("/console/staff", f"{body['email']} can sign in now")


@router.post("/staff/{staff_id}")
async def change(console: Signed, staff_id: uuid.UUID) -> Response:
    console.require("admin")
    form = await console.form()
    body: dict[str, Any] = {}
    if form.get("what") == "roles":
        body = {
            "roles": [role for role in ROLES if form.get(f"role_{role}") == "on"],
            "projects": _projects(form.get("projects", "")),
        }
    elif form.get("what") == "disable":
        body = {"active": False}
    elif form.get("what") == "enable":
        body = {"active": True}
    elif form.get("what") == "reset":
        body = {"reset_second_factor": True}
    try:
        async with api(console) as client:
            await client.send("PATCH", f"/v1/staff/members/{staff_id}", body)
    except ApiProblem as problem:
        return await _staff_page(console, problem_status(problem), problem=problem)
    return back_to("/console/staff", "Saved; the member's console sessions have ended")
