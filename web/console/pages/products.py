"""Credit products: the list, one product's versions with their terms, segments and regulatory profile, its
underwriting rules and collections ladder; admins add products and versions with a quote preview drawn beside the
form by the engine itself (domain/lending), before anything is saved."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from domain.currency import minor_units
from domain.lending.interest import DayCount, RatePeriod
from domain.lending.products import (
    AfterDue,
    Frequency,
    InterestRounding,
    ProductInvalid,
    RepaymentKind,
    terms_from_stored,
)
from domain.lending.profiles import ProfileName, hold_to_profile
from domain.lending.schedule import quote
from web.console.api_client import ApiProblem
from web.console.pages.common import Signed, api, back_to, minor_units_of, new_key, page, problem_status, whole
from web.console.templating import render

router = APIRouter()
ROLES = ("underwriter", "accountant", "support")
CHOICES = {
    "periods": [p.value for p in RatePeriod],
    "day_counts": [d.value for d in DayCount],
    "repayments": [r.value for r in RepaymentKind],
    "frequencies": [f.value for f in Frequency],
    "after_due": [a.value for a in AfterDue],
    "roundings": [r.value for r in InterestRounding],
    "profiles": [p.value for p in ProfileName],
}


@router.get("/products", response_class=HTMLResponse)
async def products(console: Signed, flash: str = "") -> HTMLResponse:
    console.require(*ROLES)
    async with api(console) as client:
        found = (await client.get("/v1/staff/products"))["data"]
    return page(
        console, "products.html", "products", products=found, flash=flash, may_configure=console.staff.may("admin")
    )


@router.post("/products")
async def add_product(console: Signed) -> Response:
    console.require("admin")
    form = await console.form()
    body = {
        "code": form.get("code", "").strip(),
        "name": form.get("name", "").strip(),
        "currency": form.get("currency", "").strip().upper(),
    }
    try:
        async with api(console) as client:
            made = await client.send("POST", "/v1/staff/products", body)
    except ApiProblem as problem:
        async with api(console) as client:
            found = (await client.get("/v1/staff/products"))["data"]
        return page(
            console,
            "products.html",
            "products",
            http_status=problem_status(problem),
            products=found,
            problem=problem,
            may_configure=True,
        )
    return back_to(f"/console/products/{made['id']}", "Product added; now give it a version")


def terms_from_form(form: dict[str, str], currency: str) -> dict[str, Any]:
    """The version's terms as the API takes them, from the configurator's fields (amounts typed in major units)."""
    exponent = minor_units(currency)

    def to_minor(typed: str) -> Any:
        text = typed.strip().replace(",", "")
        try:
            scaled = Decimal(text).scaleb(exponent)
        except InvalidOperation:
            return text  # the API names the field that is wrong
        return int(scaled) if scaled == scaled.to_integral_value() else text

    def money(name: str, default: str = "0") -> Any:
        return to_minor(form.get(name) or default)

    def percent_as_fraction(name: str) -> str:
        text = (form.get(name) or "0").strip()
        try:
            return format((Decimal(text) / 100).normalize(), "f")
        except InvalidOperation:
            return text

    terms: dict[str, Any] = {
        "principal_min": money("principal_min"),
        "principal_max": money("principal_max"),
        "principal_step": money("principal_step", "1"),
        "term_min_days": whole(form.get("term_min_days")),
        "term_max_days": whole(form.get("term_max_days")),
        "interest_rate": {
            "rate": percent_as_fraction("rate_percent"),
            "per": form.get("rate_per", "year"),
            "day_count": form.get("day_count", "actual_365_fixed"),
        },
        "interest_rounding": form.get("interest_rounding", "cumulative"),
        "repayment": form.get("repayment", "single"),
        "origination_fee_percent": (form.get("origination_fee_percent") or "0").strip(),
        "origination_fee_fixed": money("origination_fee_fixed"),
        "grace_days": whole(form.get("grace_days")) or 0,
        "penalty_daily_rate": percent_as_fraction("penalty_daily_percent"),
        "after_due": form.get("after_due", "continue"),
        "extension_days": [
            int(d) for d in (form.get("extension_days") or "").replace(" ", "").split(",") if d.isdigit()
        ],
        "extension_fee_percent": (form.get("extension_fee_percent") or "0").strip(),
        "max_extensions": whole(form.get("max_extensions")) or 0,
        "fines": [
            {"days_past_due": int(days), "amount": to_minor(amount)}
            for line in (form.get("fines") or "").splitlines()
            if ":" in line
            for days, amount in [line.split(":", 1)]
            if days.strip().isdigit()
        ],
    }
    if terms["repayment"] != "single":
        terms["frequency"] = form.get("frequency") or "monthly"
    return terms


def version_from_form(form: dict[str, str], currency: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "valid_from": f"{form.get('valid_from') or date.today().isoformat()}T00:00:00Z",
        "terms": terms_from_form(form, currency),
        "segment": {"min_repaid_loans": whole(form.get("min_repaid_loans")) or 0},
    }
    if whole(form.get("max_repaid_loans")) is not None:
        body["segment"]["max_repaid_loans"] = whole(form.get("max_repaid_loans"))
    if form.get("profile"):
        body["profile"] = form["profile"]
    return body


async def _product(console: Signed, product_id: uuid.UUID) -> dict[str, Any]:
    async with api(console) as client:
        found = (await client.get("/v1/staff/products"))["data"]
    for product in found:
        if product["id"] == str(product_id):
            return product
    raise ApiProblem(404, "no such product")


async def _document(client: Any, path: str) -> Any:
    """A product's rules or ladder; none recorded yet (the defaults apply) is an empty document to start from."""
    try:
        return await client.get(path)
    except ApiProblem as problem:
        if problem.status == 404:
            return {}
        raise


async def _product_page(console: Signed, product_id: uuid.UUID, status: int = 200, **extra: Any) -> HTMLResponse:
    product = await _product(console, product_id)
    rules = ladder = None
    async with api(console) as client:
        if console.staff.may("underwriter"):
            rules = await _document(client, f"/v1/staff/products/{product_id}/rules")
        if console.staff.may("collector"):
            ladder = await _document(client, f"/v1/staff/products/{product_id}/collection-ladder")
    return page(
        console,
        "product.html",
        "products",
        http_status=status,
        product=product,
        rules=json.dumps(rules, indent=2) if rules is not None else None,
        ladder=json.dumps(ladder, indent=2) if ladder is not None else None,
        may_configure=console.staff.may("admin"),
        choices=CHOICES,
        key=new_key(),
        today=date.today().isoformat(),
        **extra,
    )


@router.get("/products/{product_id}", response_class=HTMLResponse)
async def product(console: Signed, product_id: uuid.UUID, flash: str = "") -> HTMLResponse:
    console.require(*ROLES)
    return await _product_page(console, product_id, flash=flash)


@router.post("/products/{product_id}/versions")
async def add_version(console: Signed, product_id: uuid.UUID) -> Response:
    console.require("admin")
    form = await console.form()
    found = await _product(console, product_id)
    body = version_from_form(form, found["currency"])
    try:
        async with api(console) as client:
            made = await client.send(
                "POST", f"/v1/staff/products/{product_id}/versions", body, idempotency_key=form.get("idempotency_key")
            )
    except ApiProblem as problem:
        return await _product_page(console, product_id, problem_status(problem), problem=problem, form=form)
    return back_to(f"/console/products/{product_id}", f"Version {made['version']} saved")


@router.post("/products/{product_id}/preview", response_class=HTMLResponse)
async def preview(console: Signed, product_id: uuid.UUID) -> HTMLResponse:
    """The loan a borrower would get under the terms being typed: the engine's own quote, with the profile's caps."""
    console.require("admin")
    form = await console.form()
    found = await _product(console, product_id)
    currency = found["currency"]
    body = version_from_form(form, currency)
    context: dict[str, Any] = {"currency": currency}
    try:
        terms = terms_from_stored(body["terms"], currency)
        if body.get("profile"):
            terms = hold_to_profile(terms, body["profile"], date.today())
        typed = minor_units_of(form.get("preview_principal"), minor_units(currency))
        principal = typed if typed is not None else terms.principal_min
        term = whole(form.get("preview_term_days")) or terms.term_min_days
        context["quote"] = quote(terms, principal, term, date.today())
        context["principal"] = principal
    except (ProductInvalid, ValueError, KeyError, TypeError, InvalidOperation) as refused:
        context["errors"] = getattr(refused, "problems", None) or [str(refused)]
    return render(console.request, "console/quote_preview.html", context, console=console)


@router.post("/products/{product_id}/rules")
async def put_rules(console: Signed, product_id: uuid.UUID) -> Response:
    console.require("admin")
    return await _put_json(console, product_id, "rules", "Underwriting rules saved")


@router.post("/products/{product_id}/ladder")
async def put_ladder(console: Signed, product_id: uuid.UUID) -> Response:
    console.require("admin")
    return await _put_json(console, product_id, "collection-ladder", "Collections ladder saved")


async def _put_json(console: Signed, product_id: uuid.UUID, what: str, done: str) -> Response:
    form = await console.form()
    try:
        body = json.loads(form.get("document") or "null")
    except ValueError as err:
        problem = ApiProblem(422, f"that is not JSON: {err}")
        return await _product_page(console, product_id, 422, problem=problem)
    try:
        async with api(console) as client:
            await client.send("PUT", f"/v1/staff/products/{product_id}/{what}", body)
    except ApiProblem as problem:
        return await _product_page(console, product_id, problem_status(problem), problem=problem)
    return back_to(f"/console/products/{product_id}", done)
