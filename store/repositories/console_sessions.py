"""Console sessions: opened at sign-in, found by the digest of the cookie's token, ended on sign-out, expiry, a
disabled account or changed roles. Ended rows are kept: they are part of the staff audit trail."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ConsoleSession, StaffMember


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Opened:
    token: str  # for the cookie; never stored
    session: ConsoleSession


async def open_session(session: AsyncSession, member: StaffMember, lifetime: timedelta) -> Opened:
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    row = ConsoleSession(
        token_digest=token_digest(token),
        staff_id=member.id,
        roles=sorted(member.roles),
        projects=sorted(member.projects),
        csrf_token=secrets.token_urlsafe(32),
        second_factor_done=False,
        code_attempts=0,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    await session.flush()
    return Opened(token, row)


async def live_session(session: AsyncSession, token: str) -> ConsoleSession | None:
    """The session this token opened, unless it has ended or expired."""
    found = await session.scalar(select(ConsoleSession).where(ConsoleSession.token_digest == token_digest(token)))
    if found is None or found.ended_at is not None or found.expires_at <= datetime.now(UTC):
        return None
    return found


async def end_session(session: AsyncSession, row: ConsoleSession, reason: str) -> None:
    await session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == row.id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=datetime.now(UTC), ended_reason=reason)
    )


async def end_sessions_of(session: AsyncSession, staff_id: uuid.UUID, reason: str) -> None:
    await session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.staff_id == staff_id, ConsoleSession.ended_at.is_(None))
        .values(ended_at=datetime.now(UTC), ended_reason=reason)
    )
