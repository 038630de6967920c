"""Top-ups and payouts as the holder sees them: what was asked, where it stands, what the provider said."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class WalletOperation:
    id: uuid.UUID
    kind: str
    wallet_id: uuid.UUID
    owner_id: uuid.UUID
    amount: int
    currency: str
    instrument: str
    status: str
    provider_reference: str | None
    failure_code: str | None
    hold_id: int | None
    entry_id: int | None
    created_at: datetime


_COLUMNS = (
    "id, kind, wallet_id, owner_id, amount, currency, instrument, status, provider_reference, failure_code, hold_id,"
    " entry_id, created_at"
)


def _operation(row: Any) -> WalletOperation:
    m = row._mapping
    return WalletOperation(**{**m, "currency": m["currency"].strip()})


async def record_operation(
    session: AsyncSession,
    *,
    operation_id: uuid.UUID,
    kind: str,
    wallet_id: uuid.UUID,
    owner_id: uuid.UUID,
    amount: int,
    currency: str,
    instrument: str,
) -> WalletOperation:
    """The operation, recorded the first time (a retried start records nothing new)."""
    await session.execute(
        text(
            "INSERT INTO wallet_operations (id, kind, wallet_id, owner_id, amount, currency, instrument) "
            "VALUES (:id, :kind, :wallet, :owner, :amount, :currency, :instrument) ON CONFLICT (id) DO NOTHING"
        ),
        {
            "id": operation_id,
            "kind": kind,
            "wallet": wallet_id,
            "owner": owner_id,
            "amount": amount,
            "currency": currency,
            "instrument": instrument,
        },
    )
    found = await operation(session, operation_id)
    assert found is not None
    return found


async def operation(session: AsyncSession, operation_id: uuid.UUID) -> WalletOperation | None:
    row = (
        await session.execute(text(f"SELECT {_COLUMNS} FROM wallet_operations WHERE id = :id"), {"id": operation_id})
    ).one_or_none()
    return None if row is None else _operation(row)


async def update_operation(session: AsyncSession, operation_id: uuid.UUID, **changes: Any) -> None:
    allowed = {"status", "provider", "provider_reference", "failure_code", "hold_id", "entry_id"}
    assert set(changes) <= allowed, set(changes) - allowed
    assignments = ", ".join(f"{name} = :{name}" for name in changes)
    await session.execute(
        text(f"UPDATE wallet_operations SET {assignments}, updated_at = now() WHERE id = :id"),
        {**changes, "id": operation_id},
    )
