"""Collections: the queue of overdue loans (everyone's or the collector's own), taking a loan, recording contacts
and promises to pay. The ladder itself runs in the loans' workflows; staff see what it did per loan."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from domain.currency import minor_units
from web.console.api_client import ApiProblem
from web.console.pages.common import Signed, api, back_to, minor_units_of, new_key, page, problem_status

router = APIRouter()
CHANNELS = ("call", "sms", "email", "visit", "letter")
OUTCOMES = ("reached", "no_answer", "wrong_number", "refused", "promised", "disputed")


@router.get("/collections", response_class=HTMLResponse)
async def queue(console: Signed, mine: bool = False, offset: int = 0) -> HTMLResponse:
    console.require("collector")
    offset = max(0, min(offset, 1_000_000))
    async with api(console) as client:
        found = await client.get("/v1/staff/collections", mine=str(mine).lower(), limit=50, offset=offset)
    return page(
        console,
        "collections.html",
        "collections",
        queue=found,
        mine=mine,
        offset=offset,
        me=str(console.staff.id),
    )


async def _case_page(console: Signed, loan_id: uuid.UUID, status: int = 200, **extra: Any) -> HTMLResponse:
    async with api(console) as client:
        loan = await client.get(f"/v1/staff/loans/{loan_id}")
        contacts = (await client.get(f"/v1/staff/collections/{loan_id}/contacts"))["data"]
        customer = await client.get(f"/v1/staff/customers/{loan['user_id']}")
    promises = [p for p in customer["promises"] if p["loan_id"] == str(loan_id)]
    return page(
        console,
        "collection_case.html",
        "collections",
        http_status=status,
        loan=loan,
        contacts=contacts,
        promises=promises,
        channels=CHANNELS,
        outcomes=OUTCOMES,
        key=new_key(),
        me=str(console.staff.id),
        **extra,
    )


@router.get("/collections/{loan_id}", response_class=HTMLResponse)
async def case(console: Signed, loan_id: uuid.UUID, flash: str = "") -> HTMLResponse:
    console.require("collector")
    return await _case_page(console, loan_id, flash=flash)


async def _act(
    console: Signed, loan_id: uuid.UUID, path: str, body: dict[str, Any], done: str, key: str = ""
) -> Response:
    try:
        async with api(console) as client:
            await client.send("POST", path, body, idempotency_key=key or None)
    except ApiProblem as problem:
        return await _case_page(console, loan_id, problem_status(problem), problem=problem)
    return back_to(f"/console/collections/{loan_id}", done)


@router.post("/collections/{loan_id}/contacts")
async def contact(console: Signed, loan_id: uuid.UUID) -> Response:
    console.require("collector")
    form = await console.form()
    body = {"channel": form.get("channel", ""), "outcome": form.get("outcome", ""), "note": form.get("note") or None}
    path = f"/v1/staff/collections/{loan_id}/contacts"
    return await _act(console, loan_id, path, body, "Contact recorded", form.get("idempotency_key", ""))


@router.post("/collections/{loan_id}/promise")
async def promise(console: Signed, loan_id: uuid.UUID) -> Response:
    console.require("collector")
    form = await console.form()
    amount = minor_units_of(form.get("amount"), minor_units(form.get("currency", "USD")))
    body = {"date": form.get("date", ""), "amount": amount if amount is not None else form.get("amount")}
    path = f"/v1/staff/collections/{loan_id}/promise"
    return await _act(console, loan_id, path, body, "Promise recorded", form.get("idempotency_key", ""))


@router.post("/collections/{loan_id}/assignment")
async def assign(console: Signed, loan_id: uuid.UUID) -> Response:
    console.require("collector")
    form = await console.form()
    collector = form.get("collector_id") or None
    body = {"collector_id": collector}
    return await _act(
        console,
        loan_id,
        f"/v1/staff/collections/{loan_id}/assignment",
        body,
        "Taken" if collector else "Back in the pool",
    )
