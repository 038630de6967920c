"""The affiliate network: projects and their plans, a project's partner tree, partners and their terms,
integrations (with a test-parse of a sample payload against the mapping before it is saved), CSV uploads with
per-row answers, recalculations (paid, should be, difference per partner and period) with approval, and the close
of a period."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from domain.affiliate.mapping import EventMapping, MappingInvalid, map_event
from web.console.api_client import ApiProblem
from web.console.pages.common import Signed, api, back_to, new_key, page, problem_status

router = APIRouter()
ROLES = ("accountant", "support")


@router.get("/affiliate", response_class=HTMLResponse)
async def projects(console: Signed) -> HTMLResponse:
    console.require(*ROLES)
    async with api(console) as client:
        found = (await client.get("/v1/staff/projects"))["data"]
    return page(console, "affiliate.html", "affiliate", projects=found)


def tree(partners: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Partners as nested nodes (each with its `children`), roots first."""
    nodes = {p["id"]: {**p, "children": []} for p in partners}
    roots = []
    for partner in partners:
        parent = nodes.get(partner["sponsor_id"]) if partner["sponsor_id"] else None
        (parent["children"] if parent else roots).append(nodes[partner["id"]])
    return roots


async def _project_page(console: Signed, code: str, status: int = 200, **extra: Any) -> HTMLResponse:
    async with api(console) as client:
        project = next((p for p in (await client.get("/v1/staff/projects"))["data"] if p["code"] == code), None)
        if project is None:
            raise ApiProblem(404, "no such project")
        network = await client.get(f"/v1/staff/projects/{code}/partners")
        recalcs = (await client.get(f"/v1/staff/projects/{code}/recalculations"))["data"]
    names = {p["id"]: p["name"] for p in network["partners"]}
    return page(
        console,
        "project.html",
        "affiliate",
        http_status=status,
        project=project,
        roots=tree(network["partners"]),
        partners=network["partners"],
        names=names,
        recalculations=recalcs,
        may_configure=console.staff.may("admin"),
        may_account=console.staff.may("accountant"),
        key=new_key(),
        **extra,
    )


@router.get("/affiliate/{code}", response_class=HTMLResponse)
async def project(console: Signed, code: str, flash: str = "") -> HTMLResponse:
    console.require(*ROLES)
    return await _project_page(console, code, flash=flash)


async def _act(
    console: Signed, code: str, method: str, path: str, body: Any, done: str, key: str | None = None
) -> Response:
    try:
        async with api(console) as client:
            await client.send(method, path, body, idempotency_key=key)
    except ApiProblem as problem:
        return await _project_page(console, code, problem_status(problem), problem=problem)
    return back_to(f"/console/affiliate/{code}", done)


@router.post("/affiliate/{code}/partners")
async def add_partner(console: Signed, code: str) -> Response:
    console.require("admin")
    form = await console.form()
    body = {"project": code, "name": form.get("name", "").strip(), "phone": form.get("phone", "").strip()}
    if form.get("sponsor_id"):
        body["sponsor_id"] = form["sponsor_id"]
    return await _act(console, code, "POST", "/v1/staff/partners", body, "Partner added")


@router.post("/affiliate/{code}/terms")
async def add_terms(console: Signed, code: str) -> Response:
    console.require("admin")
    form = await console.form()
    body = {
        "project": code,
        "valid_from": f"{form.get('valid_from', '')}T00:00:00Z",
        "levels": [level.strip() for level in form.get("levels", "").split(",") if level.strip()],
    }
    partner = form.get("partner_id", "")
    try:
        async with api(console) as client:
            made = await client.send(
                "POST", f"/v1/staff/partners/{partner}/terms", body, idempotency_key=form.get("idempotency_key")
            )
    except ApiProblem as problem:
        return await _project_page(console, code, problem_status(problem), problem=problem)
    if made.get("preview"):
        return back_to(
            f"/console/affiliate/{code}/recalculations/{made['preview']}", "Terms recorded; review the recalculation"
        )
    return back_to(f"/console/affiliate/{code}", "Terms recorded")


@router.post("/affiliate/{code}/integrations")
async def add_integration(console: Signed, code: str) -> Response:
    """`test` only parses the sample payload with the mapping and shows what it makes; `save` records it."""
    console.require("admin")
    form = await console.form()
    parsed: Any = None
    try:
        mapping = json.loads(form.get("mapping") or "{}")
        sample = json.loads(form.get("sample") or "null") if form.get("sample", "").strip() else None
        if sample is not None and not isinstance(sample, dict):
            parsed = {"refused": "a sample is one event: a JSON object"}
        elif sample is not None:
            found = map_event(sample, EventMapping.from_stored(mapping))
            parsed = {"refused": found} if isinstance(found, str) else {"event": vars(found)}
        else:
            EventMapping.from_stored(mapping)
    except (ValueError, MappingInvalid, TypeError) as err:
        return await _project_page(
            console, code, 422, problem=ApiProblem(422, f"mapping: {err}"), integration_form=form
        )
    if form.get("action") == "test":
        return await _project_page(console, code, parsed=parsed, integration_form=form)
    body = {
        "name": form.get("name", "").strip(),
        "format": form.get("format", "json"),
        "secret": form.get("secret", ""),
        "mapping": mapping,
    }
    return await _act(console, code, "POST", f"/v1/staff/projects/{code}/integrations", body, "Integration saved")


@router.post("/affiliate/{code}/uploads")
async def upload(console: Signed, code: str) -> Response:
    console.require("accountant")
    name, content = await console.upload("file")
    form = {k: v for k, v in (await console.request.form()).items() if isinstance(v, str)}
    integration = form.get("integration", "").strip()
    try:
        async with api(console) as client:
            result = await client.upload(
                f"/v1/staff/projects/{code}/integrations/{integration}/uploads", content, "text/csv"
            )
    except ApiProblem as problem:
        return await _project_page(console, code, problem_status(problem), problem=problem)
    return await _project_page(console, code, upload={"name": name, "result": result})


@router.post("/affiliate/{code}/periods")
async def close_period(console: Signed, code: str) -> Response:
    console.require("accountant")
    form = await console.form()
    period = form.get("period", "").strip()
    return await _act(
        console, code, "POST", f"/v1/staff/projects/{code}/periods/{period}/close", None, f"Period {period} closed"
    )


@router.get("/affiliate/{code}/recalculations/{recalculation_id}", response_class=HTMLResponse)
async def recalculation(console: Signed, code: str, recalculation_id: int, flash: str = "") -> HTMLResponse:
    console.require(*ROLES)
    return await _recalculation_page(console, code, recalculation_id, flash=flash)


async def _recalculation_page(
    console: Signed, code: str, recalculation_id: int, status: int = 200, **extra: Any
) -> HTMLResponse:
    async with api(console) as client:
        found = await client.get(f"/v1/staff/recalculations/{recalculation_id}")
        network = await client.get(f"/v1/staff/projects/{code}/partners")
    names = {p["id"]: p["name"] for p in network["partners"]}
    return page(
        console,
        "recalculation.html",
        "affiliate",
        http_status=status,
        recalc=found,
        code=code,
        names=names,
        may_approve=console.staff.may("accountant"),
        **extra,
    )


@router.post("/affiliate/{code}/recalculations/{recalculation_id}/approve")
async def approve(console: Signed, code: str, recalculation_id: int) -> Response:
    console.require("accountant")
    await console.form()
    try:
        async with api(console) as client:
            outcome = await client.send("POST", f"/v1/staff/recalculations/{recalculation_id}/approve", None)
    except ApiProblem as problem:
        return await _recalculation_page(console, code, recalculation_id, problem_status(problem), problem=problem)
    return back_to(f"/console/affiliate/{code}/recalculations/{recalculation_id}", f"Recalculation {outcome['status']}")
