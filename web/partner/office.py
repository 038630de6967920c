"""The partner's pages. Everything is read through the API as the partner (`/v1/partners/me/...`, `/v1/wallets`):
a person who is no partner gets a page saying so, never someone else's figures."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from domain.currency import minor_units
from services import formatting
from web import charts
from web.people.common import Signed, amount_in_minor_units, api, back_to, new_key, page, said, words
from web.platform_api import ApiProblem

router = APIRouter(prefix="/partner", include_in_schema=False)
PERIODS_CHARTED = 12


async def _partnerships(person: Signed) -> list[dict[str, Any]] | None:
    try:
        async with api(person) as client:
            return list((await client.get("/v1/partners/me"))["data"])
    except ApiProblem as refused:
        if refused.status == 404:
            return None
        raise


def _not_a_partner(person: Signed) -> HTMLResponse:
    _ = words(person)
    return page(
        person,
        "people/error.html",
        http_status=404,
        heading=_("You are not a partner yet"),
        detail=_("This office is for partners. Ask your sponsor or our team to add you."),
    )


@router.get("", response_class=HTMLResponse)
async def earnings(person: Signed) -> HTMLResponse:
    partnerships = await _partnerships(person)
    if partnerships is None:
        return _not_a_partner(person)
    async with api(person) as client:
        today = (await client.get("/v1/partners/me/earnings-today"))["data"]
        statements = (await client.get("/v1/partners/me/statements"))["data"]
        pending = (await client.get("/v1/partners/me/recalculations"))["data"]
    by_project: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in statements:
        by_project[line["project"]].append(line)
    _ = words(person)
    projects = []
    for partnership in partnerships:
        code = partnership["project"]
        lines = by_project.get(code, [])
        currency = partnership["currency"]
        earned_today = sum(t["amount"] for t in today if t["project"] == code)
        open_period = next((s for s in lines if s["status"] == "open"), None)
        closed = [s for s in lines if s["status"] == "closed"]
        charted = sorted(lines, key=lambda s: s["period"])[-PERIODS_CHARTED:]
        chart = (
            charts.bars(
                _("Earnings by period"),
                [(s["period"], s["total"]) for s in charted],
                lambda value, c=currency: formatting.money(value, c, person.language),
            )
            if charted
            else None
        )
        projects.append(
            {
                "partnership": partnership,
                "today": earned_today,
                "open": open_period,
                "closed": closed,
                "chart": chart,
                "currency": currency,
            }
        )
    return page(person, "partner/earnings.html", active="earnings", projects=projects, pending=pending)


@router.get("/statements/{project}/{period}.csv")
async def statement_csv(person: Signed, project: str, period: str) -> Response:
    """A statement as a spreadsheet: one row per posting, amounts in major units with the currency's decimals."""
    async with api(person) as client:
        found = await client.get(f"/v1/partners/me/statements/{project[:64]}/{period[:16]}")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["project", "period", "kind", "events", "points", "amount", "currency", "entry_id"])
    for line in found["data"]:
        writer.writerow(
            [
                found["project"],
                found["period"],
                line["kind"],
                line["events"],
                line["points"],
                formatting.plain_amount(line["amount"], found["currency"]),
                found["currency"],
                line["entry_id"] if line["entry_id"] is not None else "",
            ]
        )
    name = f"statement-{found['project']}-{found['period']}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _tree(root: dict[str, Any], members: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The downline as nested nodes under the partner (members come nearest first, so a sponsor precedes)."""
    nodes: dict[str, dict[str, Any]] = {root["id"]: {"member": root, "children": []}}
    for member in members:
        node = {"member": member, "children": []}
        nodes[member["id"]] = node
        parent = nodes.get(member["sponsor_id"] or "")
        if parent is not None:
            parent["children"].append(node)
    children: list[dict[str, Any]] = nodes[root["id"]]["children"]
    return children


@router.get("/network", response_class=HTMLResponse)
async def network(person: Signed) -> HTMLResponse:
    partnerships = await _partnerships(person)
    if partnerships is None:
        return _not_a_partner(person)
    async with api(person) as client:
        networks = {n["partner_id"]: n["members"] for n in (await client.get("/v1/partners/me/network"))["data"]}
    trees = [
        {
            "partnership": p,
            "tree": _tree(p, networks.get(p["id"], [])),
            "size": len(networks.get(p["id"], [])),
        }
        for p in partnerships
    ]
    return page(person, "partner/network.html", active="network", trees=trees)


async def _payouts_page(person: Signed, status: int = 200, **extra: Any) -> HTMLResponse:
    partnerships = await _partnerships(person)
    if partnerships is None:
        return _not_a_partner(person)
    async with api(person) as client:
        wallets = [w for w in (await client.get("/v1/wallets"))["data"] if w["type"] == "commission"]
        try:
            destination = (await client.get("/v1/partners/me/payout-destination"))["destination"]
        except ApiProblem:
            destination = ""
        statements = {
            w["id"]: (await client.get(f"/v1/wallets/{w['id']}/statement", limit=50))["data"] for w in wallets
        }
    return page(
        person,
        "partner/payouts.html",
        http_status=status,
        active="payouts",
        wallets=wallets,
        statements=statements,
        destination=destination,
        key=new_key(),
        **extra,
    )


@router.get("/payouts", response_class=HTMLResponse)
async def payouts(person: Signed) -> HTMLResponse:
    return await _payouts_page(person)


@router.post("/payouts/destination", response_class=HTMLResponse)
async def set_destination(person: Signed) -> Response:
    form = await person.form()
    try:
        async with api(person) as client:
            await client.send(
                "PUT", "/v1/partners/me/payout-destination", {"destination": form.get("destination", "").strip()}
            )
    except ApiProblem as refused:
        return await _payouts_page(person, refused.status, problem=said(person, refused))
    return back_to("/partner/payouts", "destination_saved")


@router.post("/payouts", response_class=HTMLResponse)
async def pay_out(person: Signed) -> Response:
    """From the commissions wallet to the saved destination; the form's key makes a double submit pay once."""
    form = await person.form()
    async with api(person) as client:
        wallets = {w["id"]: w for w in (await client.get("/v1/wallets"))["data"] if w["type"] == "commission"}
        try:
            destination = (await client.get("/v1/partners/me/payout-destination"))["destination"]
        except ApiProblem:
            destination = ""
    wallet = wallets.get(form.get("wallet", ""))
    amount = amount_in_minor_units(form.get("amount"), minor_units(wallet["currency"])) if wallet else None
    if wallet is None or amount is None or not destination:
        problem = {"text": words(person)("Please check what you entered."), "detail": "", "status": 422}
        return await _payouts_page(person, 422, problem=problem)
    body = {
        "wallet": wallet["id"],
        "amount": {"amount": amount, "currency": wallet["currency"]},
        "destination": destination,
    }
    try:
        async with api(person) as client:
            await client.send("POST", "/v1/payouts", body, idempotency_key=form.get("key") or new_key())
    except ApiProblem as refused:
        return await _payouts_page(person, refused.status, problem=said(person, refused))
    return back_to("/partner/payouts", "paid_out")
