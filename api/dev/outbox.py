"""`GET /v1/dev/outbox?to=`: what the fake SMS and e-mail providers "sent", newest first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.dependencies import Db, Resources
from api.phone import normalise_phone
from store.repositories.messages import fake_outbox

router = APIRouter(prefix="/v1/dev", tags=["development"])


class OutboxMessage(BaseModel):
    id: uuid.UUID
    channel: str
    to: str
    subject: str | None
    body: str
    purpose: str
    status: str
    created_at: datetime


class OutboxPage(BaseModel):
    data: list[OutboxMessage]
    has_more: bool


def _recipient(value: str) -> str:
    """A phone in any spelling finds its messages (an unencoded "+" even arrives as a space); else an e-mail."""
    if "@" in value:
        return value
    candidate = "+" + value.strip().lstrip("+")
    try:
        return normalise_phone(candidate)
    except ValueError:
        return value


@router.get("/outbox", response_model=OutboxPage)
async def outbox(
    db: Db,
    resources: Resources,
    to: Annotated[str | None, Query(max_length=320)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> OutboxPage:
    recipient = _recipient(to) if to else None
    entries = await fake_outbox(db, resources.cipher, to=recipient, limit=limit + 1)
    return OutboxPage(
        data=[OutboxMessage(**entry.__dict__) for entry in entries[:limit]], has_more=len(entries) > limit
    )
