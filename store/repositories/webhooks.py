"""The webhook inbox: a provider event is stored once; a replay finds it already there."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import WebhookEvent


async def store_event_once(
    session: AsyncSession, *, provider: str, event_id: str, event_type: str, payload: dict[str, Any]
) -> bool:
    """True when this event is new; False when the provider already delivered it (a replay)."""
    inserted = await session.scalar(
        insert(WebhookEvent)
        .values(id=uuid.uuid4(), provider=provider, event_id=event_id, event_type=event_type, payload=payload)
        .on_conflict_do_nothing(index_elements=["provider", "event_id"])
        .returning(WebhookEvent.id)
    )
    return inserted is not None
