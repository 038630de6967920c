"""Underwriting: the queue (minutes in status against the review target), one application with what the checks
found, the rules' reasons, the signing evidence and the process's history; decide and cancel as the API allows."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from domain.currency import minor_units
from web.console.api_client import ApiProblem
from web.console.pages.common import Signed, api, back_to, minor_units_of, page, problem_status
from web.console.session import resources_of

router = APIRouter()
QUEUE_STATUSES = ("manual_review", "checking", "offered", "awaiting_signature", "awaiting_card", "disbursing")
ALL_STATUSES = (
    *QUEUE_STATUSES,
    "received",
    "disbursed",
    "rejected",
    "cancelled",
    "expired",
    "failed",
)


@router.get("/applications", response_class=HTMLResponse)
async def queue(console: Signed, status: str = "manual_review", after: str = "") -> HTMLResponse:
    console.require("underwriter", "support")
    status = status if status in ALL_STATUSES else "manual_review"
    async with api(console) as client:
        found = await client.get("/v1/staff/applications", status=status, starting_after=after or None, limit=50)
    target = resources_of(console.request).settings.review_target_seconds // 60
    return page(
        console,
        "applications.html",
        "applications",
        lines=found["data"],
        has_more=found["has_more"],
        status=status,
        statuses=ALL_STATUSES,
        target_minutes=target,
    )


async def _application_page(console: Signed, application_id: uuid.UUID, **extra: object) -> HTMLResponse:
    async with api(console) as client:
        found = await client.get(f"/v1/staff/applications/{application_id}")
        process = await client.get(f"/v1/staff/applications/{application_id}/process")
    status = int(extra.pop("status", 200))  # type: ignore[call-overload]
    return page(
        console,
        "application.html",
        "applications",
        http_status=status,
        app=found,
        process=process,
        may_decide=console.staff.may("underwriter"),
        **extra,
    )


@router.get("/applications/{application_id}", response_class=HTMLResponse)
async def application(console: Signed, application_id: uuid.UUID, flash: str = "") -> HTMLResponse:
    console.require("underwriter", "support", "collector")
    return await _application_page(console, application_id, flash=flash)


@router.post("/applications/{application_id}/decision")
async def decide(console: Signed, application_id: uuid.UUID) -> Response:
    console.require("underwriter")
    form = await console.form()
    body: dict[str, object] = {"decision": form.get("decision", ""), "reason": form.get("reason", "").strip()}
    typed = form.get("principal", "").strip()
    principal = minor_units_of(typed, minor_units(form.get("currency", "GBP"))) if typed else None
    if typed and principal is None:
        body["principal"] = typed  # the API says what is wrong with it
    if body["decision"] == "approve" and principal is not None:
        body["principal"] = principal
    try:
        async with api(console) as client:
            await client.send("POST", f"/v1/staff/applications/{application_id}/decision", body)
    except ApiProblem as problem:
        return await _application_page(console, application_id, problem=problem, http_status=problem_status(problem))
    return back_to(f"/console/applications/{application_id}", f"Decision recorded: {body['decision']}")


@router.post("/applications/{application_id}/cancel")
async def cancel(console: Signed, application_id: uuid.UUID) -> Response:
    console.require("underwriter")
    form = await console.form()
    try:
        async with api(console) as client:
            await client.send(
                "POST", f"/v1/staff/applications/{application_id}/cancel", {"reason": form.get("reason", "").strip()}
            )
    except ApiProblem as problem:
        return await _application_page(console, application_id, problem=problem, http_status=problem_status(problem))
    return back_to(f"/console/applications/{application_id}", "The application is cancelled")
