"""Outbound SMS and e-mail: what was asked, what the provider said, what the outbox shows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import OutboundMessage
from store.pii import PiiCipher

# A status may only move forward: a late "sent" callback must not overwrite "delivered".
STATUS_RANK = {"pending": 0, "queued": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}


@dataclass(frozen=True)
class MessageContent:
    id: uuid.UUID
    channel: str
    to: str
    subject: str | None
    body: str
    provider: str | None
    provider_message_id: str | None
    status: str


async def create_message(
    session: AsyncSession,
    cipher: PiiCipher,
    *,
    channel: str,
    to: str,
    body: str,
    purpose: str,
    subject: str | None = None,
    message_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A new message; with `message_id`, the one of that id if it exists already (a retried step sends one)."""
    if message_id is not None and await session.get(OutboundMessage, message_id) is not None:
        return message_id
    message = OutboundMessage(
        id=message_id or uuid.uuid4(),
        channel=channel,
        recipient_lookup=cipher.lookup(to),
        recipient_encrypted=cipher.encrypt(to),
        body_encrypted=cipher.encrypt(body),
        subject=subject,
        purpose=purpose,
        status="pending",
        attempts=0,
    )
    session.add(message)
    await session.flush()
    return message.id


async def message_content(session: AsyncSession, cipher: PiiCipher, message_id: uuid.UUID) -> MessageContent | None:
    row = await session.get(OutboundMessage, message_id)
    if row is None:
        return None
    return MessageContent(
        row.id,
        row.channel,
        cipher.decrypt(row.recipient_encrypted),
        row.subject,
        cipher.decrypt(row.body_encrypted),
        row.provider,
        row.provider_message_id,
        row.status,
    )


async def count_attempt(session: AsyncSession, message_id: uuid.UUID) -> None:
    await session.execute(
        update(OutboundMessage).where(OutboundMessage.id == message_id).values(attempts=OutboundMessage.attempts + 1)
    )


async def record_receipt(
    session: AsyncSession, message_id: uuid.UUID, *, provider: str, provider_message_id: str, status: str
) -> None:
    now = datetime.now(UTC)
    await session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == message_id, OutboundMessage.provider_message_id.is_(None))
        .values(provider=provider, provider_message_id=provider_message_id, status=status, sent_at=now, status_at=now)
    )


async def record_status(
    session: AsyncSession, message_id: uuid.UUID, status: str, error_code: str | None = None
) -> str:
    """Move the message to `status` unless it already is at or past it; returns the status it now has."""
    row = await session.get(OutboundMessage, message_id, with_for_update=True)
    if row is None:
        raise LookupError(f"message {message_id} not found")
    if STATUS_RANK.get(status, 0) > STATUS_RANK.get(row.status, 0):
        row.status = status
        row.error_code = error_code
        row.status_at = datetime.now(UTC)
    return row.status


@dataclass(frozen=True)
class OutboxEntry:
    id: uuid.UUID
    channel: str
    to: str
    subject: str | None
    body: str
    purpose: str
    status: str
    created_at: datetime


async def fake_outbox(session: AsyncSession, cipher: PiiCipher, *, to: str | None, limit: int) -> list[OutboxEntry]:
    """What the fake providers "sent", newest first."""
    query = (
        select(OutboundMessage)
        .where(OutboundMessage.provider == "fake")
        .order_by(OutboundMessage.created_at.desc(), OutboundMessage.id)
        .limit(limit)
    )
    if to is not None:
        query = query.where(OutboundMessage.recipient_lookup == cipher.lookup(to))
    rows = (await session.scalars(query)).all()
    return [
        OutboxEntry(
            r.id,
            r.channel,
            cipher.decrypt(r.recipient_encrypted),
            r.subject,
            cipher.decrypt(r.body_encrypted),
            r.purpose,
            r.status,
            r.created_at,
        )
        for r in rows
    ]


async def messages_to(session: AsyncSession, recipient_lookup: bytes, limit: int = 100) -> list[dict[str, object]]:
    """What was sent to one recipient, without the bodies (they may hold codes): for the staff's customer view."""
    rows = await session.execute(
        select(OutboundMessage.channel, OutboundMessage.purpose, OutboundMessage.status, OutboundMessage.created_at)
        .where(OutboundMessage.recipient_lookup == recipient_lookup)
        .order_by(OutboundMessage.created_at.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


async def sent_to(
    session: AsyncSession, cipher: PiiCipher, recipient_lookup: bytes, limit: int
) -> list[dict[str, Any]]:
    """What was sent to one recipient, newest first, with the texts (the caller decides which to show)."""
    rows = (
        await session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.recipient_lookup == recipient_lookup)
            .order_by(OutboundMessage.created_at.desc(), OutboundMessage.id)
            .limit(limit)
        )
    ).all()
    return [
        {
            "id": r.id,
            "channel": r.channel,
            "purpose": r.purpose,
            "status": r.status,
            "body": cipher.decrypt(r.body_encrypted),
            "created_at": r.created_at,
        }
        for r in rows
    ]
