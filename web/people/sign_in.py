"""Signing in to the borrower's account and the partner's office by SMS code: the number is parsed with
libphonenumber from what the person typed and the country they chose, then the API's own `POST /v1/auth/otp` and
`POST /v1/auth/token` run (the same code lifetime, attempts and per-phone and per-address limits as any app). The
number waits between the two pages in a cookie sealed with the PII key; the session cookie is HttpOnly and
SameSite=Lax (the payment provider's page sends the browser back from another site)."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.dependencies import client_address
from api.security.tokens import read_token
from domain.language import LANGUAGES, language_for_phone, zone_for_phone
from domain.phones import COUNTRIES, PhoneProblem, country_of, parse_phone
from services.i18n import translator
from services.wording import N_
from store.repositories import user_sessions
from web.in_process import call
from web.people.session import (
    COOKIE,
    FACES,
    LANGUAGE_COOKIE,
    anonymous_language,
    chosen_language,
    current_person,
    resources_of,
)
from web.people.templating import render

PENDING = "lendflow_pending_phone"
FORM = "lendflow_sign_in_form"
SESSION_HOURS = 12

PHONE_PROBLEMS = {
    "not_a_number": N_("That does not look like a phone number."),
    "not_possible": N_("That number is not possible for the country chosen."),
    "fixed_line": N_("That is a landline. We send codes by SMS: please use a mobile number."),
}


def _cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=resources_of(request).settings.secure_cookies,
        path="/",
    )


def _local(path: str, face: str) -> str:
    """Only a path on this face is a place to come back to (no open redirect)."""
    return path if path.startswith(f"/{face}") and not path.startswith("//") and "\\" not in path else f"/{face}"


def _form_page(request: Request, face: str, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    token = request.cookies.get(FORM) or secrets.token_urlsafe(24)
    base = {"face": face, "form_token": token, "countries": COUNTRIES, "next": request.query_params.get("next", "")}
    response = render(request, f"people/{template}", {**base, **context}, status=status)
    _cookie(response, request, FORM, token, 3600)
    return response


async def _form(request: Request) -> dict[str, str] | None:
    """The sign-in form, if it carries the double-submit token of this browser."""
    form = await request.form()
    sent, cookie = form.get("form_token"), request.cookies.get(FORM)
    if not isinstance(sent, str) or not cookie or not secrets.compare_digest(sent, cookie):
        return None
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _pending_phone(request: Request) -> str | None:
    sealed = request.cookies.get(PENDING)
    if not sealed:
        return None
    try:
        return resources_of(request).cipher.decrypt(sealed.encode())
    except Exception:
        return None


def sign_in_routes(face: str) -> APIRouter:
    """The sign-in, sign-out and language routes of one face (/account or /partner)."""
    router = APIRouter(prefix=f"/{face}", include_in_schema=False)

    @router.get("/sign-in", response_class=HTMLResponse)
    async def phone_form(request: Request) -> HTMLResponse:
        return _form_page(request, face, "sign_in.html", country="")

    @router.post("/sign-in", response_class=HTMLResponse)
    async def send_code(request: Request) -> Response:
        _ = translator(anonymous_language(request)).gettext
        form = await _form(request)
        if form is None:
            return _form_page(request, face, "sign_in.html", 403, message=_("The form has expired. Please try again."))
        country = form.get("country", "")[:2]
        try:
            phone = parse_phone(form.get("phone", ""), country)
        except PhoneProblem as problem:
            message = _(PHONE_PROBLEMS[problem.code])
            return _form_page(request, face, "sign_in.html", 422, message=message, country=country)
        answer = await call(
            request.app,
            "POST",
            "/v1/auth/otp",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"phone": phone}).encode(),
            client=(client_address(request), 0),
        )
        if answer.status == 429:
            message = _("Too many codes were asked for. Please wait a few minutes and try again.")
            return _form_page(request, face, "sign_in.html", 429, message=message, country=country)
        if answer.status >= 400:
            message = _("That does not look like a phone number.")
            return _form_page(request, face, "sign_in.html", 422, message=message, country=country)
        target = f"/{face}/sign-in/code" + (f"?next={quote(form['next'])}" if form.get("next") else "")
        response = RedirectResponse(target, status_code=303)
        sealed = resources_of(request).cipher.encrypt(phone).decode()
        _cookie(response, request, PENDING, sealed, resources_of(request).settings.otp_ttl_seconds)
        return response

    @router.get("/sign-in/code", response_class=HTMLResponse)
    async def code_form(request: Request) -> Response:
        phone = _pending_phone(request)
        if phone is None:
            return RedirectResponse(f"/{face}/sign-in", status_code=303)
        return _form_page(request, face, "code.html", phone_end=phone[-4:])

    @router.post("/sign-in/code", response_class=HTMLResponse)
    async def check_code(request: Request) -> Response:
        phone = _pending_phone(request)
        if phone is None:
            return RedirectResponse(f"/{face}/sign-in", status_code=303)
        _ = translator(anonymous_language(request)).gettext
        form = await _form(request)
        if form is None:
            message = _("The form has expired. Please try again.")
            return _form_page(request, face, "code.html", 403, message=message, phone_end=phone[-4:])
        code = "".join(ch for ch in form.get("code", "") if ch.isascii() and ch.isdigit())[:8]
        answer = await call(
            request.app,
            "POST",
            "/v1/auth/token",
            headers={"Content-Type": "application/json"},
            body=json.dumps({"phone": phone, "code": code}).encode(),
            client=(client_address(request), 0),
        )
        if answer.status != 200:
            message = _("That code is not right, or it has expired.")
            return _form_page(request, face, "code.html", 401, message=message, phone_end=phone[-4:])
        resources = resources_of(request)
        principal = read_token(answer.json()["access_token"], resources.settings.jwt_secret)
        language = chosen_language(request) or (
            language_for_phone(phone) if country_of(phone) else anonymous_language(request)
        )
        zone = zone_for_phone(phone, resources.settings.market_timezone)
        async with resources.session_factory() as db:
            opened = await user_sessions.open_session(db, principal.id, language, zone, timedelta(hours=SESSION_HOURS))
            await db.commit()
        response = RedirectResponse(_local(form.get("next", ""), face), status_code=303)
        _cookie(response, request, COOKIE, opened.token, SESSION_HOURS * 3600)
        response.delete_cookie(PENDING, path="/")
        response.delete_cookie(FORM, path="/")
        return response

    @router.post("/sign-out")
    async def sign_out(request: Request) -> Response:
        person = await current_person(request)
        await person.form()
        async with resources_of(request).session_factory() as db:
            await user_sessions.end_session(db, person.session_id)
            await db.commit()
        response = RedirectResponse(f"/{face}/sign-in", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @router.get("/language")
    async def switch_language(request: Request, to: str = "", back: str = "") -> Response:
        """The language switcher: remembered in a cookie for a year (and on the session at its next request)."""
        response = RedirectResponse(_local(back, face), status_code=303)
        if to in LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, to, max_age=365 * 86400, samesite="lax", path="/")
        return response

    return router


router = APIRouter(include_in_schema=False)
for _face_name in FACES:
    router.include_router(sign_in_routes(_face_name))
