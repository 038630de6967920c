"""Who is on the borrower's or partner's pages: the session behind the cookie, opened by an SMS code (the API's own
OTP rules and limits), found by its token's digest on every request. The language is the person's choice (a
cookie, also kept on the session), else their phone country's, else the browser's."""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request

from api.resources import AppResources
from domain.language import DEFAULT_LANGUAGE, LANGUAGES, negotiate
from store.repositories import user_sessions

COOKIE = "lendflow_person"
LANGUAGE_COOKIE = "lendflow_language"
TOUCH_EVERY = timedelta(seconds=60)
FACES = ("account", "partner")


class PersonSignInNeeded(Exception):
    """Answered with a redirect to the face's sign-in page, coming back to `next` afterwards."""

    def __init__(self, face: str, next_path: str = "") -> None:
        super().__init__(face)
        self.face = face
        self.next_path = next_path


class FormRefused(Exception):
    """A form without this session's token: answered 403, nothing done."""

    def __init__(self, person: Person | None = None) -> None:
        super().__init__("csrf")
        self.person = person


@dataclass(frozen=True)
class Person:
    user_id: uuid.UUID
    kind: str
    session_id: int
    csrf: str
    language: str
    zone: str
    request: Request

    async def form(self) -> dict[str, str]:
        """The posted form, once its CSRF token matched this session's."""
        form = await self.request.form()
        sent = form.get("csrf_token")
        if not isinstance(sent, str) or not hmac.compare_digest(sent, self.csrf):
            raise FormRefused(self)
        return {key: value for key, value in form.items() if isinstance(value, str)}


def resources_of(request: Request) -> AppResources:
    found: AppResources = request.app.state.resources
    return found


def chosen_language(request: Request) -> str | None:
    """A language the person picked on these pages (the switcher sets the cookie)."""
    found = request.cookies.get(LANGUAGE_COOKIE)
    return found if found in LANGUAGES else None


def anonymous_language(request: Request) -> str:
    """Before sign-in: the person's pick, else the browser's list, else English."""
    return chosen_language(request) or negotiate(request.headers.get("accept-language")) or DEFAULT_LANGUAGE


def face_of(request: Request) -> str:
    first = request.url.path.strip("/").split("/")[0]
    return first if first in FACES else "account"


async def current_person(request: Request) -> Person:
    face = face_of(request)
    token = request.cookies.get(COOKIE)
    next_path = request.url.path if request.method == "GET" else ""
    if not token:
        raise PersonSignInNeeded(face, next_path)
    resources = resources_of(request)
    async with resources.session_factory() as db:
        row = await user_sessions.live_session(db, token)
        if row is None:
            raise PersonSignInNeeded(face, next_path)
        now = datetime.now(UTC)
        if now - row.last_seen_at > timedelta(minutes=resources.settings.console_idle_minutes):
            await user_sessions.end_session(db, row.id)
            await db.commit()
            raise PersonSignInNeeded(face, next_path)
        language = chosen_language(request) or row.language
        if now - row.last_seen_at > TOUCH_EVERY or language != row.language:
            await user_sessions.touch(db, row.id, language=language)
            await db.commit()
        return Person(row.user_id, "user", row.id, row.csrf_token, language, row.time_zone, request)
