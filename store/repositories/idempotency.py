"""Idempotency keys for POST requests: the first request claims the key; a repeat with the same body gets the
stored answer; a repeat with another body is a conflict."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import IdempotentRequest


@dataclass(frozen=True)
class StoredResponse:
    request_hash: bytes
    status_code: int | None  # None: the first request is still in flight
    body: Any


async def claim_key(session: AsyncSession, *, scope: str, key: str, request_hash: bytes) -> StoredResponse | None:
    """None when this request is the first with the key (it now owns it); otherwise what the first one left."""
    claimed = await session.scalar(
        insert(IdempotentRequest)
        .values(scope=scope, key=key, request_hash=request_hash)
        .on_conflict_do_nothing()
        .returning(IdempotentRequest.key)
    )
    if claimed is not None:
        return None
    row = await session.scalar(
        select(IdempotentRequest).where(IdempotentRequest.scope == scope, IdempotentRequest.key == key)
    )
    assert row is not None
    return StoredResponse(row.request_hash, row.status_code, row.response_body)


async def remember_response(session: AsyncSession, *, scope: str, key: str, status_code: int, body: Any) -> None:
    await session.execute(
        update(IdempotentRequest)
        .where(IdempotentRequest.scope == scope, IdempotentRequest.key == key)
        .values(status_code=status_code, response_body=body)
    )
