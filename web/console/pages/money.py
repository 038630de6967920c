"""Wallets and money: the wallet engine's configuration (wallet types and their rules, FX rates), staff transfers,
and bonus credits from an uploaded file (each row checked and answered on its own before the batch is sent)."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from domain.currency import minor_units
from web.console.api_client import ApiProblem
from web.console.pages.common import Signed, api, back_to, minor_units_of, new_key, page, problem_status

router = APIRouter()
ROLES = ("accountant", "support")
MAX_ROWS = 100_000


async def _money_page(console: Signed, status: int = 200, **extra: Any) -> HTMLResponse:
    async with api(console) as client:
        types = (await client.get("/v1/staff/wallet-types"))["data"]
        rates = (await client.get("/v1/staff/fx-rates"))["data"]
    return page(
        console,
        "money.html",
        "money",
        http_status=status,
        types=types,
        rates=rates,
        may_move=console.staff.may("accountant"),
        may_configure=console.staff.may("admin"),
        key=new_key(),
        now=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M"),
        **extra,
    )


@router.get("/money", response_class=HTMLResponse)
async def money(console: Signed, flash: str = "") -> HTMLResponse:
    console.require(*ROLES)
    return await _money_page(console, flash=flash)


async def _send(console: Signed, method: str, path: str, body: Any, done: str, key: str | None = None) -> Response:
    try:
        async with api(console) as client:
            await client.send(method, path, body, idempotency_key=key)
    except ApiProblem as problem:
        return await _money_page(console, problem_status(problem), problem=problem)
    return back_to("/console/money", done)


@router.post("/money/fx-rates")
async def add_rate(console: Signed) -> Response:
    console.require("accountant")
    form = await console.form()
    body = {
        "base": form.get("base", "").upper(),
        "quote": form.get("quote", "").upper(),
        "rate": form.get("rate", "").strip(),
        "valid_from": (form.get("valid_from") or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M")) + ":00Z",
    }
    return await _send(console, "POST", "/v1/staff/fx-rates", body, "Rate added")


@router.post("/money/wallet-types")
async def put_type(console: Signed) -> Response:
    console.require("admin")
    form = await console.form()
    currency = form.get("rules_currency", "").upper().strip()
    exponent = minor_units(currency) if len(currency) == 3 and currency.isalpha() else 2

    def amount(name: str) -> dict[str, Any] | None:
        value = minor_units_of(form.get(name), exponent)
        return None if value is None else {"amount": value, "currency": currency}

    body = {
        "currencies": [c.strip().upper() for c in form.get("currencies", "").split(",") if c.strip()],
        "min": amount("min") or {"amount": 0, "currency": currency},
        "max": amount("max"),
        "fee_percent": form.get("fee_percent") or "0",
        "fee_fixed": amount("fee_fixed"),
        "allow_negative": form.get("allow_negative") == "on",
        "payouts_allowed": form.get("payouts_allowed") == "on",
        "topups_allowed": form.get("topups_allowed") == "on",
    }
    code = form.get("code", "").strip()
    return await _send(console, "PUT", f"/v1/staff/wallet-types/{code}", body, f"Wallet type {code} saved")


@router.post("/money/transfers")
async def transfer(console: Signed) -> Response:
    console.require("accountant")
    form = await console.form()
    currency = form.get("currency", "").upper()
    amount = minor_units_of(form.get("amount"), minor_units(currency)) if len(currency) == 3 else None
    body = {
        "from_wallet": form.get("from_wallet", "").strip(),
        "to_wallet": form.get("to_wallet", "").strip(),
        "amount": {"amount": amount if amount is not None else form.get("amount"), "currency": currency},
        "reason": form.get("reason", "").strip(),
    }
    return await _send(console, "POST", "/v1/staff/transfers", body, "Transfer posted", form.get("idempotency_key"))


def parse_credits(content: bytes, exponent: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of `wallet_id,amount` (major units) or `wallet_id,points`: the credits to send, and every row's
    answer (its line, the wallet, what it credits or why it cannot)."""
    text = content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    credits: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line, row in enumerate(rows[:MAX_ROWS], start=2):
        wallet = (row.get("wallet_id") or "").strip()
        problem = ""
        credit: dict[str, Any] = {"wallet_id": wallet}
        try:
            uuid.UUID(wallet)
        except ValueError:
            problem = "not a wallet id"
        if not problem and wallet in seen:
            problem = "the wallet is credited twice in this file"
        if not problem and (row.get("points") or "").strip():
            points = row["points"].strip()
            if not points.isdigit() or int(points) <= 0:
                problem = "points are a positive whole number"
            else:
                credit["points"] = int(points)
        elif not problem:
            amount = minor_units_of(row.get("amount"), exponent)
            if amount is None or amount <= 0:
                problem = "the amount is not a positive amount of this currency"
            else:
                credit["amount"] = amount
        answers.append({"line": line, "wallet_id": wallet, "credit": credit, "problem": problem})
        if not problem:
            seen.add(wallet)
            credits.append(credit)
    if len(rows) > MAX_ROWS:
        answers.append({"line": MAX_ROWS + 2, "wallet_id": "", "credit": {}, "problem": f"at most {MAX_ROWS} rows"})
    return credits, answers


@router.post("/money/bonus-credits")
async def bonus_credits(console: Signed) -> Response:
    console.require("accountant")
    name, content = await console.upload("file")
    form = {k: v for k, v in (await console.request.form()).items() if isinstance(v, str)}
    currency = form.get("currency", "").upper()
    exponent = minor_units(currency) if len(currency) == 3 and currency.isalpha() else 2
    credits, answers = parse_credits(content, exponent)
    result, problem = None, None
    if credits and not any(a["problem"] for a in answers):
        body: dict[str, Any] = {"currency": currency, "reason": form.get("reason", "").strip(), "credits": credits}
        if form.get("points_rate"):
            body["points_rate"] = form["points_rate"].strip()
        try:
            async with api(console) as client:
                result = await client.send(
                    "POST", "/v1/staff/bonus-credits", body, idempotency_key=form.get("idempotency_key")
                )
        except ApiProblem as refused:
            problem = refused
    status = 200 if result else (problem_status(problem) if problem else 422)
    return await _money_page(
        console, status, upload={"name": name, "answers": answers, "result": result}, problem=problem
    )
