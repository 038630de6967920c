"""Borrowing: the calculator (the engine's own quote for the products on offer: what is paid back and when, the
APR, the total cost, and the warnings the product's regulatory profile requires), then the application form.
The form's Idempotency-Key is drawn with the form, so sending it twice makes one application."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from domain.currency import minor_units
from services.wording import warning
from web.people.common import Signed, amount_in_minor_units, api, back_to, new_key, page, said, words
from web.platform_api import ApiProblem

router = APIRouter()


def _whole(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 7 else None


async def _calculator(person: Signed, form: dict[str, str], status: int = 200, **extra: Any) -> HTMLResponse:
    _ = words(person)
    async with api(person) as client:
        products = (await client.get("/v1/products"))["data"]
        me = await client.get("/v1/me")
        chosen = next((p for p in products if p["id"] == form.get("product")), products[0] if products else None)
        quote, problem = None, None
        if chosen is not None and form.get("amount"):
            principal = amount_in_minor_units(form.get("amount"), minor_units(chosen["currency"]))
            term = _whole(form.get("term"))
            if principal is None or term is None:
                problem = {"text": _("Please enter the amount and the number of days."), "detail": "", "status": 422}
            else:
                try:
                    quote = await client.send(
                        "POST", "/v1/quotes", {"product_id": chosen["id"], "principal": principal, "term_days": term}
                    )
                except ApiProblem as refused:
                    problem = said(person, refused)
    warnings = [warning(w["code"], person.language) for w in quote["warnings"]] if quote else []
    return page(
        person,
        "account/calculator.html",
        http_status=problem["status"] if problem and status == 200 else status,
        active="apply",
        products=products,
        chosen=chosen,
        form=form,
        quote=quote,
        warnings=warnings,
        problem=extra.pop("problem", None) or problem,
        phone=me["phone"],
        key=new_key(),
        **extra,
    )


@router.get("/calculator", response_class=HTMLResponse)
async def calculator(person: Signed, product: str = "", amount: str = "", term: str = "") -> HTMLResponse:
    return await _calculator(person, {"product": product[:64], "amount": amount[:20], "term": term[:6]})


@router.post("/apply", response_class=HTMLResponse)
async def apply(person: Signed) -> Response:
    form = await person.form()
    _ = words(person)
    async with api(person) as client:
        products = (await client.get("/v1/products"))["data"]
        me = await client.get("/v1/me")
    chosen = next((p for p in products if p["id"] == form.get("product")), None)
    principal = amount_in_minor_units(form.get("amount"), minor_units(chosen["currency"])) if chosen else None
    term = _whole(form.get("term"))
    income = amount_in_minor_units(form.get("monthly_income"), minor_units(chosen["currency"])) if chosen else None
    if chosen is None or principal is None or term is None or income is None:
        problem = {"text": _("Please check what you entered."), "detail": "", "status": 422}
        return await _calculator(person, form, 422, problem=problem)
    try:
        birth = date.fromisoformat(form.get("birth_date", ""))
    except ValueError:
        problem = {"text": _("Please enter your date of birth."), "detail": "", "status": 422}
        return await _calculator(person, form, 422, problem=problem)
    body = {
        "product_id": chosen["id"],
        "principal": principal,
        "term_days": term,
        "applicant": {
            "full_name": form.get("full_name", "").strip(),
            "national_id": form.get("national_id", "").strip(),
            "birth_date": birth.isoformat(),
            "phone": me["phone"],
            "monthly_income": income,
            **({"email": form["email"].strip()} if form.get("email", "").strip() else {}),
        },
    }
    try:
        async with api(person) as client:
            created = await client.send("POST", "/v1/applications", body, idempotency_key=form.get("key") or new_key())
    except ApiProblem as refused:
        return await _calculator(person, form, refused.status, problem=said(person, refused))
    return back_to(f"/account/applications/{created['id']}", "applied")
