"""The audit log: one row per staff action (and per sign-in), written in the transaction of the action itself."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import AuditRecord


@dataclass(frozen=True)
class Actor:
    kind: str  # staff | user | system | provider | anonymous
    id: uuid.UUID | None = None
    label: str | None = None


@dataclass(frozen=True)
class AuditContext:
    request_id: str | None = None
    client_address: str | None = None


@dataclass
class AuditEntry:
    action: str
    target_type: str | None = None
    target_id: str | None = None
    outcome: str = "ok"
    details: dict[str, Any] = field(default_factory=dict)


async def record_audit(session: AsyncSession, actor: Actor, entry: AuditEntry, context: AuditContext) -> None:
    session.add(
        AuditRecord(
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_label=actor.label,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            outcome=entry.outcome,
            details=entry.details,
            request_id=context.request_id,
            client_address=context.client_address,
        )
    )
    await session.flush()


async def audit_page(
    session: AsyncSession,
    *,
    limit: int,
    starting_after: int | None,
    action: str | None = None,
    actor_id: uuid.UUID | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditRecord]:
    """Newest first; `starting_after` is the id of the last record of the previous page. Filters combine."""
    query = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    if starting_after is not None:
        query = query.where(AuditRecord.id < starting_after)
    if action is not None:
        query = query.where(AuditRecord.action == action)
    if actor_id is not None:
        query = query.where(AuditRecord.actor_id == actor_id)
    if target_type is not None:
        query = query.where(AuditRecord.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditRecord.target_id == target_id)
    if since is not None:
        query = query.where(AuditRecord.at >= since)
    if until is not None:
        query = query.where(AuditRecord.at < until)
    return list((await session.scalars(query)).all())
