"""Borrowers' and partners' browser sessions: opened by an SMS code, found by the digest of the cookie's token,
ended on sign-out or expiry."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import UserSession


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Opened:
    token: str  # for the cookie; never stored
    session: UserSession


async def open_session(
    session: AsyncSession, user_id: uuid.UUID, language: str, time_zone: str, lifetime: timedelta
) -> Opened:
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    row = UserSession(
        token_digest=token_digest(token),
        user_id=user_id,
        csrf_token=secrets.token_urlsafe(32),
        language=language,
        time_zone=time_zone,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    await session.flush()
    return Opened(token, row)


async def live_session(session: AsyncSession, token: str) -> UserSession | None:
    found = await session.scalar(select(UserSession).where(UserSession.token_digest == token_digest(token)))
    if found is None or found.ended_at is not None or found.expires_at <= datetime.now(UTC):
        return None
    return found


async def touch(session: AsyncSession, session_id: int, *, language: str | None = None) -> None:
    values: dict[str, object] = {"last_seen_at": datetime.now(UTC)}
    if language is not None:
        values["language"] = language
    await session.execute(update(UserSession).where(UserSession.id == session_id).values(**values))


async def end_session(session: AsyncSession, session_id: int) -> None:
    await session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.ended_at.is_(None))
        .values(ended_at=datetime.now(UTC))
    )
