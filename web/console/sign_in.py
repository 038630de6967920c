"""Signing in to the console: e-mail and password (throttled exactly as `POST /v1/staff/token`, the same audit
rows counting), then a TOTP code from the member's authenticator app, enrolled on first sign-in (optional in dev,
where a member may still enrol from their account page). The session cookie is HttpOnly, SameSite=Strict and
Secure outside dev; the sign-in form itself carries a double-submit CSRF token."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy import update

from api.dependencies import client_address
from api.security.passwords import password_matches
from api.security.sign_in_throttle import retry_after
from api.staff.auth import recent_failures
from store.models import ConsoleSession, StaffMember
from store.repositories import console_sessions
from store.repositories.audit import Actor, AuditContext, AuditEntry, record_audit
from store.repositories.identity import staff_by_email, staff_member
from web.console.session import COOKIE, Console, resources_of
from web.console.templating import render

router = APIRouter(prefix="/console", include_in_schema=False)
PRE_COOKIE = "lendflow_console_form"
MAX_CODE_ATTEMPTS = 5
ISSUER = "lendflow"


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=resources_of(request).settings.secure_cookies,
        path="/console",
    )


def _form_token(request: Request) -> str:
    return request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)


def _sign_in_page(request: Request, message: str = "", status: int = 200, email: str = "") -> HTMLResponse:
    token = _form_token(request)
    response = render(
        request, "console/sign_in.html", {"form_token": token, "message": message, "email": email}, status=status
    )
    _set_cookie(response, request, PRE_COOKIE, token, 3600)
    return response


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, reason: str = "") -> HTMLResponse:
    return _sign_in_page(request, reason[:200])


async def _audit(request: Request, db: Any, member: StaffMember | None, action: str, target: str, outcome: str) -> None:
    actor = Actor("staff", member.id, member.email) if member else Actor("anonymous")
    await record_audit(
        db,
        actor,
        AuditEntry(action, "staff_email", target, outcome, {"via": "console"}),
        AuditContext(client_address=client_address(request)),
    )


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await request.form()
    sent, cookie = form.get("form_token"), request.cookies.get(PRE_COOKIE)
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent, cookie):
        return _sign_in_page(request, "The form has expired; please try again.", 403)
    email = str(form.get("email", "")).strip().lower()[:320]
    password = str(form.get("password", ""))[:1024]
    resources = resources_of(request)
    account = hashlib.sha256(email.encode()).hexdigest()
    address = client_address(request)
    async with resources.session_factory() as db:
        wait = retry_after(await recent_failures(db, account, address), datetime.now(UTC))
        if wait is not None:
            seconds = max(1, math.ceil(wait.total_seconds()))
            return _sign_in_page(request, f"Too many failed sign-ins; try again in {seconds} s.", 429, email)
        member = await staff_by_email(db, email)
        if member is None or not password_matches(member.password_hash, password) or not member.active:
            await _audit(request, db, None, "staff.sign_in", account, "denied")
            await db.commit()
            return _sign_in_page(request, "The e-mail or password is not valid.", 401, email)
        opened = await console_sessions.open_session(
            db, member, timedelta(hours=resources.settings.console_session_hours)
        )
        needs_code = member.totp_secret_encrypted is not None
        enrol = not needs_code and resources.settings.totp_required
        if not needs_code and not enrol:
            opened.session.second_factor_done = True
        await _audit(request, db, member, "staff.sign_in", account, "ok")
        await db.commit()
    target = "/console/sign-in/code" if needs_code else "/console/sign-in/enrol" if enrol else "/console"
    response = RedirectResponse(target, status_code=303)
    _set_cookie(response, request, COOKIE, opened.token, resources.settings.console_session_hours * 3600)
    response.delete_cookie(PRE_COOKIE, path="/console")
    return response


async def _pending(request: Request) -> tuple[ConsoleSession, StaffMember] | None:
    """The session between password and code, with its member."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    async with resources_of(request).session_factory() as db:
        row = await console_sessions.live_session(db, token)
        member = await staff_member(db, row.staff_id) if row else None
    if row is None or member is None or not member.active:
        return None
    return row, member


def _qr(uri: str) -> Markup:
    return Markup(segno.make(uri, error="m").svg_inline(scale=4, dark="#1b2433"))


@router.get("/sign-in/code", response_class=HTMLResponse)
async def code_form(request: Request) -> Response:
    found = await _pending(request)
    if found is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    row, _ = found
    return render(request, "console/code.html", {"csrf_token": row.csrf_token, "message": ""})


@router.get("/sign-in/enrol", response_class=HTMLResponse)
async def enrol_form(request: Request) -> Response:
    found = await _pending(request)
    if found is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    row, member = found
    if member.totp_secret_encrypted is not None:
        # Enrolled already: a new secret needs an admin's reset first, never a half-signed-in session.
        return RedirectResponse("/console/sign-in/code", status_code=303)
    return await _enrol_page(request, row, member, "")


async def _enrol_page(request: Request, row: ConsoleSession, member: StaffMember, message: str) -> HTMLResponse:
    """A new secret for this session (kept encrypted on the session until a code proves the app has it)."""
    resources = resources_of(request)
    cipher = resources.cipher
    if row.pending_totp_encrypted is None:
        secret = pyotp.random_base32()
        async with resources.session_factory() as db:
            await db.execute(
                update(ConsoleSession)
                .where(ConsoleSession.id == row.id)
                .values(pending_totp_encrypted=cipher.encrypt(secret))
            )
            await db.commit()
    else:
        secret = cipher.decrypt(row.pending_totp_encrypted)
    uri = pyotp.TOTP(secret).provisioning_uri(name=member.email, issuer_name=ISSUER)
    context = {"csrf_token": row.csrf_token, "secret": secret, "qr": _qr(uri), "message": message}
    return render(request, "console/enrol.html", context, status=422 if message else 200)


def _accept(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step the code belongs to (this one or its neighbours, for clock drift), unless it was used."""
    totp, now = pyotp.TOTP(secret), datetime.now(UTC)
    code = code.strip().replace(" ", "")
    for offset in (0, -1, 1):
        at = now + timedelta(seconds=30 * offset)
        step = totp.timecode(at)
        if hmac.compare_digest(totp.at(at), code) and (last_step is None or step > last_step):
            return step
    return None


async def _check_code(request: Request, enrolling: bool) -> Response:
    found = await _pending(request)
    if found is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    row, member = found
    if enrolling and member.totp_secret_encrypted is not None:
        return RedirectResponse("/console/sign-in/code", status_code=303)
    form = await request.form()
    sent = form.get("csrf_token")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, row.csrf_token):
        return HTMLResponse("The form has expired; please sign in again.", status_code=403)
    resources = resources_of(request)
    encrypted = row.pending_totp_encrypted if enrolling else member.totp_secret_encrypted
    if encrypted is None:
        return RedirectResponse("/console/sign-in", status_code=303)
    secret = resources.cipher.decrypt(encrypted)
    step = _accept(secret, str(form.get("code", ""))[:16], member.totp_last_step)
    async with resources.session_factory() as db:
        if step is None:
            attempts = row.code_attempts + 1
            await db.execute(update(ConsoleSession).where(ConsoleSession.id == row.id).values(code_attempts=attempts))
            await _audit(request, db, member, "staff.second_factor", member.email, "denied")
            if attempts >= MAX_CODE_ATTEMPTS:
                await console_sessions.end_session(db, row, "too many wrong codes")
                await db.commit()
                return RedirectResponse("/console/sign-in?reason=too+many+wrong+codes", status_code=303)
            await db.commit()
            if enrolling:
                return await _enrol_page(request, row, member, "That code is not right; try the current one.")
            context = {"csrf_token": row.csrf_token, "message": "That code is not right; try the current one."}
            return render(request, "console/code.html", context, status=422)
        values: dict[str, Any] = {"totp_last_step": step}
        if enrolling:
            values |= {"totp_secret_encrypted": encrypted, "totp_enrolled_at": datetime.now(UTC)}
        await db.execute(update(StaffMember).where(StaffMember.id == member.id).values(**values))
        await db.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id == row.id)
            .values(second_factor_done=True, pending_totp_encrypted=None)
        )
        await _audit(
            request, db, member, "staff.totp_enrolled" if enrolling else "staff.second_factor", member.email, "ok"
        )
        await db.commit()
    return RedirectResponse("/console", status_code=303)


@router.post("/sign-in/code")
async def code(request: Request) -> Response:
    return await _check_code(request, enrolling=False)


@router.post("/sign-in/enrol")
async def enrol(request: Request) -> Response:
    return await _check_code(request, enrolling=True)


async def sign_out(console: Console) -> Response:
    """Ends the session (its row is kept) and forgets the cookie."""
    await console.form()
    resources = resources_of(console.request)
    token = console.request.cookies.get(COOKIE, "")
    async with resources.session_factory() as db:
        row = await console_sessions.live_session(db, token)
        if row is not None:
            await console_sessions.end_session(db, row, "signed out")
            await db.commit()
    response = RedirectResponse("/console/sign-in?reason=signed+out", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


async def start_enrolment(console: Console) -> Response:
    """From the account page (dev, where enrolment is optional): the session goes back to the enrolment step."""
    await console.form()
    resources = resources_of(console.request)
    async with resources.session_factory() as db:
        await db.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id == console.session_id)
            .values(second_factor_done=False, pending_totp_encrypted=None)
        )
        await db.commit()
    return RedirectResponse("/console/sign-in/enrol", status_code=303)
