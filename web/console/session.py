"""Who is at the console: the session behind the cookie, checked on every request against the staff member as the
database has them now. A disabled member, changed roles or projects, an idle or expired session: the session
ends there and the browser goes back to the sign-in page with the reason."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request
from sqlalchemy import update

from api.resources import AppResources
from store.models import ConsoleSession
from store.repositories import console_sessions
from store.repositories.identity import staff_member
from web.console.api_client import Staff

COOKIE = "lendflow_console"
TOUCH_EVERY = timedelta(seconds=60)


class SignInNeeded(Exception):
    """Answered with a redirect to the sign-in page (the reason is shown there)."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class SecondFactorNeeded(Exception):
    """Signed in with a password; the code (or enrolment) comes next."""

    def __init__(self, enrol: bool) -> None:
        super().__init__("enrol" if enrol else "code")
        self.enrol = enrol


class Forbidden(Exception):
    """The member's roles do not reach this page or action: answered 403 with the console's page."""

    def __init__(self, console: Console | None = None) -> None:
        super().__init__("forbidden")
        self.console = console


class CsrfRefused(Exception):
    """A form came without this session's token: answered 403, nothing done."""

    def __init__(self, console: Console | None = None) -> None:
        super().__init__("csrf")
        self.console = console


@dataclass(frozen=True)
class Console:
    """The signed-in member, their session's CSRF token, and the request they made."""

    staff: Staff
    session_id: int
    csrf: str
    request: Request

    def require(self, *roles: str) -> None:
        if not self.staff.may(*roles):
            raise Forbidden(self)

    async def form(self) -> dict[str, str]:
        """The posted form, once its CSRF token matched this session's."""
        form = await self.request.form()
        sent = form.get("csrf_token")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, self.csrf):
            raise CsrfRefused(self)
        return {key: value for key, value in form.items() if isinstance(value, str)}

    async def upload(self, field: str) -> tuple[str, bytes]:
        """A posted file (CSRF checked like any form): its name and content."""
        form = await self.request.form()
        sent = form.get("csrf_token")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, self.csrf):
            raise CsrfRefused(self)
        found = form.get(field)
        if found is None or isinstance(found, str):
            return "", b""
        return found.filename or "upload", await found.read()


def resources_of(request: Request) -> AppResources:
    found: AppResources = request.app.state.resources
    return found


async def current_console(request: Request) -> Console:
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInNeeded()
    resources = resources_of(request)
    settings = resources.settings
    async with resources.session_factory() as db:
        row = await console_sessions.live_session(db, token)
        if row is None:
            raise SignInNeeded("your session has ended; sign in again")
        member = await staff_member(db, row.staff_id)
        now = datetime.now(UTC)
        reason = None
        if member is None or not member.active:
            reason = "your account has been disabled"
        elif sorted(member.roles) != sorted(row.roles) or sorted(member.projects) != sorted(row.projects):
            reason = "your roles have changed; sign in again"
        elif now - row.last_seen_at > timedelta(minutes=settings.console_idle_minutes):
            reason = "you were away too long; sign in again"
        if reason is not None:
            await console_sessions.end_session(db, row, reason)
            await db.commit()
            raise SignInNeeded(reason)
        assert member is not None
        if not row.second_factor_done:
            raise SecondFactorNeeded(enrol=member.totp_secret_encrypted is None)
        if now - row.last_seen_at > TOUCH_EVERY:
            await db.execute(update(ConsoleSession).where(ConsoleSession.id == row.id).values(last_seen_at=now))
            await db.commit()
        staff = Staff(member.id, member.email, tuple(member.roles), tuple(member.projects))
        return Console(staff, row.id, row.csrf_token, request)
