"""Wallets: balances; a statement per wallet with the balance after each movement; transfers between one's own
wallets (the conversion shown before confirming, from the same rules the transfer applies) or to another person
by their phone; a top-up from a linked card and a payout. The confirm form carries the Idempotency-Key drawn with
the preview: the transfer is made once however often it is sent."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from domain.currency import minor_units
from domain.phones import COUNTRIES, PhoneProblem, parse_phone
from services.wording import N_
from web.people.common import Signed, amount_in_minor_units, api, back_to, new_key, page, said, words
from web.platform_api import ApiProblem

router = APIRouter()


async def _page(person: Signed, status: int = 200, **extra: Any) -> HTMLResponse:
    async with api(person) as client:
        wallets = (await client.get("/v1/wallets"))["data"]
        cards = (await client.get("/v1/me/cards"))["data"]
    return page(
        person,
        "account/wallets.html",
        http_status=status,
        active="wallets",
        wallets=wallets,
        cards=cards,
        keys={"topup": new_key(), "payout": new_key()},
        countries=COUNTRIES,
        **extra,
    )


@router.get("/wallets", response_class=HTMLResponse)
async def wallets(person: Signed) -> HTMLResponse:
    return await _page(person)


@router.get("/wallets/{wallet_id}", response_class=HTMLResponse)
async def statement(person: Signed, wallet_id: uuid.UUID, after: int | None = None) -> HTMLResponse:
    async with api(person) as client:
        found = {w["id"]: w for w in (await client.get("/v1/wallets"))["data"]}
        if str(wallet_id) not in found:
            raise ApiProblem(status=404, detail="no such wallet", code="not_found")
        lines = await client.get(f"/v1/wallets/{wallet_id}/statement", limit=100, starting_after=after)
    return page(person, "account/statement.html", active="wallets", wallet=found[str(wallet_id)], statement=lines)


def _refused(person: Signed, text: str) -> dict[str, Any]:
    return {"text": words(person)(text), "detail": "", "status": 422}


async def _transfer_body(person: Signed, form: dict[str, str]) -> dict[str, Any] | dict[str, dict[str, Any]]:
    """The API body the form names, or {"problem": ...} for what the form got wrong."""
    async with api(person) as client:
        mine = {w["id"]: w for w in (await client.get("/v1/wallets"))["data"]}
    source = mine.get(form.get("from_wallet", ""))
    if source is None:
        return {"problem": _refused(person, N_("Please choose a wallet."))}
    amount = amount_in_minor_units(form.get("amount"), minor_units(source["currency"]))
    if amount is None:
        return {"problem": _refused(person, N_("Please enter an amount."))}
    body: dict[str, Any] = {"from_wallet": source["id"], "amount": {"amount": amount, "currency": source["currency"]}}
    if form.get("to_phone", "").strip():
        try:
            body["to_phone"] = parse_phone(form["to_phone"], form.get("country") or None)
        except PhoneProblem:
            return {"problem": _refused(person, N_("That does not look like a phone number."))}
    elif form.get("to_wallet") in mine:
        body["to_wallet"] = form["to_wallet"]
    else:
        return {"problem": _refused(person, N_("Please choose where the money goes."))}
    return body


@router.post("/transfers/preview", response_class=HTMLResponse)
async def preview(person: Signed) -> Response:
    form = await person.form()
    body = await _transfer_body(person, form)
    if "problem" in body:
        return await _page(person, 422, problem=body["problem"], form=form)
    try:
        async with api(person) as client:
            shown = await client.send("POST", "/v1/transfers/preview", body)
    except ApiProblem as refused:
        return await _page(person, refused.status, problem=said(person, refused), form=form)
    return page(
        person,
        "account/transfer_preview.html",
        active="wallets",
        preview=shown,
        form=form,
        recipient=body.get("to_phone"),
        key=new_key(),
    )


@router.post("/transfers", response_class=HTMLResponse)
async def transfer(person: Signed) -> Response:
    form = await person.form()
    body = await _transfer_body(person, form)
    if "problem" in body:
        return await _page(person, 422, problem=body["problem"], form=form)
    try:
        async with api(person) as client:
            await client.send("POST", "/v1/transfers", body, idempotency_key=form.get("key") or new_key())
    except ApiProblem as refused:
        return await _page(person, refused.status, problem=said(person, refused), form=form)
    return back_to("/account/wallets", "transferred")


@router.post("/wallets/topup", response_class=HTMLResponse)
async def topup(person: Signed) -> Response:
    """From a linked card into a wallet."""
    return await _with_card(person, "/v1/topups", "payment_method", "topped_up")


@router.post("/wallets/payout", response_class=HTMLResponse)
async def payout(person: Signed) -> Response:
    """From a wallet to a linked card."""
    return await _with_card(person, "/v1/payouts", "destination", "paid_out")


async def _with_card(person: Signed, path: str, card_field: str, done: str) -> Response:
    form = await person.form()
    async with api(person) as client:
        mine = {w["id"]: w for w in (await client.get("/v1/wallets"))["data"]}
        cards = {c["id"]: c for c in (await client.get("/v1/me/cards"))["data"]}
    wallet, card = mine.get(form.get("wallet", "")), cards.get(form.get("card", ""))
    amount = amount_in_minor_units(form.get("amount"), minor_units(wallet["currency"])) if wallet else None
    if wallet is None or card is None or amount is None:
        return await _page(person, 422, problem=_refused(person, N_("Please check what you entered.")))
    body = {
        "wallet": wallet["id"],
        "amount": {"amount": amount, "currency": wallet["currency"]},
        card_field: card["payment_method"],
    }
    try:
        async with api(person) as client:
            await client.send("POST", path, body, idempotency_key=form.get("key") or new_key())
    except ApiProblem as refused:
        return await _page(person, refused.status, problem=said(person, refused))
    return back_to("/account/wallets", done)
