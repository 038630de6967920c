"""Loans: the book by status; one loan with its schedule, what the engine says it owes against what the ledger
holds, events, payments and journal entries, its balance and accruals over time as a chart; staff corrections
(payment, waiver, rate change, fee) and the write-off."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from domain.currency import minor_units
from services import formatting
from web import charts
from web.console.api_client import ApiProblem
from web.console.pages.common import Signed, api, back_to, minor_units_of, page, problem_status

router = APIRouter()
ROLES = ("underwriter", "collector", "accountant", "support")
STATUSES = ("active", "overdue", "repaid", "written_off")


@router.get("/loans", response_class=HTMLResponse)
async def book(console: Signed, status: str = "", offset: int = 0) -> HTMLResponse:
    console.require(*ROLES)
    status = status if status in STATUSES else ""
    offset = max(0, min(offset, 1_000_000))
    async with api(console) as client:
        found = await client.get("/v1/staff/loans", status=status or None, limit=50, offset=offset)
    return page(
        console,
        "loans.html",
        "loans",
        lines=found["data"],
        has_more=found["has_more"],
        status=status,
        statuses=STATUSES,
        offset=offset,
    )


def over_time(loan: dict[str, Any]) -> tuple[list[str], list[int], list[int]]:
    """What the borrower owed at the end of each value date with an entry, and the interest accrued to then,
    walked from the loan's own journal entries (the receivables are assets: owed is minus their balance)."""
    prefix = f"loan:{loan['id']}:"
    owed, interest = 0, 0
    by_day: dict[str, tuple[int, int]] = {}
    for entry in sorted(loan["entries"], key=lambda e: (e["value_date"], e["id"])):
        for posting in entry["postings"]:
            if posting["account"].startswith(prefix):
                owed -= posting["amount"]
                if posting["account"].endswith(":interest") and posting["amount"] < 0:
                    interest -= posting["amount"]
        by_day[entry["value_date"]] = (owed, interest)
    days = sorted(by_day)
    return days, [by_day[d][0] for d in days], [by_day[d][1] for d in days]


async def _loan_page(console: Signed, loan_id: uuid.UUID, status: int = 200, **extra: Any) -> HTMLResponse:
    async with api(console) as client:
        loan = await client.get(f"/v1/staff/loans/{loan_id}")
    days, owed, interest = over_time(loan)
    currency = loan["currency"]
    chart = charts.line(
        "Owed and interest accrued over time",
        days,
        [("owed", owed), ("interest accrued", interest)],
        lambda value: formatting.money(value, currency),
    )
    return page(
        console,
        "loan.html",
        "loans",
        http_status=status,
        loan=loan,
        chart=chart,
        may_correct=console.staff.may("accountant"),
        today=date.today().isoformat(),
        **extra,
    )


@router.get("/loans/{loan_id}", response_class=HTMLResponse)
async def loan(console: Signed, loan_id: uuid.UUID, flash: str = "") -> HTMLResponse:
    console.require(*ROLES)
    return await _loan_page(console, loan_id, flash=flash)


@router.post("/loans/{loan_id}/corrections")
async def correct(console: Signed, loan_id: uuid.UUID) -> Response:
    console.require("accountant")
    form = await console.form()
    body: dict[str, Any] = {
        "kind": form.get("kind", ""),
        "value_date": form.get("value_date", ""),
        "reason": form.get("reason", "").strip(),
    }
    currency = form.get("currency", "USD")
    if form.get("amount", "").strip():
        body["amount"] = minor_units_of(form.get("amount"), minor_units(currency)) or form.get("amount")
    if body["kind"] == "waiver" and form.get("component"):
        body["component"] = form["component"]
    if body["kind"] == "rate_change":
        body["rate"] = form.get("rate", "").strip()
    try:
        async with api(console) as client:
            await client.send("POST", f"/v1/staff/loans/{loan_id}/corrections", body)
    except ApiProblem as problem:
        return await _loan_page(console, loan_id, problem_status(problem), problem=problem)
    return back_to(f"/console/loans/{loan_id}", f"Correction posted: {body['kind']}")


@router.post("/loans/{loan_id}/write-off")
async def write_off(console: Signed, loan_id: uuid.UUID) -> Response:
    console.require("accountant")
    form = await console.form()
    try:
        async with api(console) as client:
            await client.send(
                "POST", f"/v1/staff/loans/{loan_id}/write-off", {"reason": form.get("reason", "").strip()}
            )
    except ApiProblem as problem:
        return await _loan_page(console, loan_id, problem_status(problem), problem=problem)
    return back_to(f"/console/loans/{loan_id}", "The loan is written off")
