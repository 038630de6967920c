"""One loan: what is owed now and by when, the agreed schedule, what happened (payments, interest, charges);
repay part or all of it, take an extension at the quoted fee, or promise to pay when overdue. Money forms carry an
Idempotency-Key drawn with the form: a double-submitted "repay" charges the card once."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from domain.currency import minor_units
from services.wording import N_
from web.people.common import Signed, amount_in_minor_units, api, back_to, new_key, page, said, words
from web.platform_api import ApiProblem

router = APIRouter()


async def _page(person: Signed, loan_id: uuid.UUID, status: int = 200, **extra: Any) -> HTMLResponse:
    async with api(person) as client:
        loan = await client.get(f"/v1/loans/{loan_id}")
        payments = (await client.get(f"/v1/loans/{loan_id}/payments"))["data"]
        extensions, refused = [], None
        if loan["status"] in ("active", "overdue"):
            for days in loan["extension_days"]:
                try:
                    extensions.append(await client.get(f"/v1/loans/{loan_id}/extension-quote", days=days))
                except ApiProblem as problem:
                    refused = said(person, problem)["text"]
    upcoming = [i for i in loan["schedule"] if i["due_date"] >= date.today().isoformat()]
    return page(
        person,
        "account/loan.html",
        http_status=status,
        active="home",
        loan=loan,
        payments=payments,
        extensions=extensions,
        extension_refused=refused,
        next_payment=upcoming[0] if upcoming else None,
        keys={"repay": new_key(), "full": new_key(), "promise": new_key()},
        extend_keys=[new_key() for _ in extensions],
        today=date.today().isoformat(),
        **extra,
    )


@router.get("/loans/{loan_id}", response_class=HTMLResponse)
async def loan(person: Signed, loan_id: uuid.UUID) -> HTMLResponse:
    return await _page(person, loan_id)


async def _send(person: Signed, loan_id: uuid.UUID, path: str, body: Any, key: str, done: str) -> Response:
    try:
        async with api(person) as client:
            await client.send("POST", f"/v1/loans/{loan_id}/{path}", body, idempotency_key=key or new_key())
    except ApiProblem as refused:
        return await _page(
            person, loan_id, refused.status if refused.status >= 400 else 422, problem=said(person, refused)
        )
    return back_to(f"/account/loans/{loan_id}", done)


def _refused(person: Signed, text: str) -> dict[str, Any]:
    return {"text": words(person)(text), "detail": "", "status": 422}


@router.post("/loans/{loan_id}/repay", response_class=HTMLResponse)
async def repay(person: Signed, loan_id: uuid.UUID) -> Response:
    form = await person.form()
    async with api(person) as client:
        found = await client.get(f"/v1/loans/{loan_id}")
    if form.get("whole") == "1":
        amount: int | None = found["balances"]["total"]
    else:
        amount = amount_in_minor_units(form.get("amount"), minor_units(found["currency"]))
    if not amount:
        return await _page(person, loan_id, 422, problem=_refused(person, N_("Please enter an amount.")))
    return await _send(person, loan_id, "repayments", {"amount": amount}, form.get("key", ""), "repaid")


@router.post("/loans/{loan_id}/extend", response_class=HTMLResponse)
async def extend(person: Signed, loan_id: uuid.UUID) -> Response:
    form = await person.form()
    days = form.get("days", "")
    if not (days.isascii() and days.isdigit() and 0 < int(days) <= 365):
        return await _page(person, loan_id, 422, problem=_refused(person, N_("Please check what you entered.")))
    return await _send(person, loan_id, "extensions", {"days": int(days)}, form.get("key", ""), "extended")


@router.post("/loans/{loan_id}/promise", response_class=HTMLResponse)
async def promise(person: Signed, loan_id: uuid.UUID) -> Response:
    form = await person.form()
    async with api(person) as client:
        found = await client.get(f"/v1/loans/{loan_id}")
    amount = amount_in_minor_units(form.get("amount"), minor_units(found["currency"]))
    try:
        when = date.fromisoformat(form.get("date", ""))
    except ValueError:
        when = None
    if amount is None or when is None:
        return await _page(person, loan_id, 422, problem=_refused(person, N_("Please check what you entered.")))
    body = {"date": when.isoformat(), "amount": amount}
    return await _send(person, loan_id, "promises", body, form.get("key", ""), "promised")
