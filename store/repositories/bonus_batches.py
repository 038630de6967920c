"""Bonus credit batches: stored once when staff send them (COPY: a batch may hold 100,000 lines), read back by the
activity that posts them, in slices, by line number."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from store import ledger


@dataclass(frozen=True)
class BatchLine:
    wallet_id: uuid.UUID
    amount: int | None
    points: int | None


@dataclass(frozen=True)
class Batch:
    id: uuid.UUID
    currency: str
    points_rate: Decimal | None
    reason: str
    credits: int


async def store_batch(
    session: AsyncSession,
    batch_id: uuid.UUID,
    *,
    currency: str,
    points_rate: Decimal | None,
    reason: str,
    lines: Sequence[BatchLine],
    created_by: uuid.UUID | None,
) -> bool:
    """False when the batch id is taken (the same request again): nothing is written twice."""
    made = await session.execute(
        text(
            "INSERT INTO bonus_batches (id, currency, points_rate, reason, credits, created_by)"
            " VALUES (:id, :currency, :rate, :reason, :credits, :by) ON CONFLICT (id) DO NOTHING RETURNING id"
        ),
        {
            "id": batch_id,
            "currency": currency,
            "rate": points_rate,
            "reason": reason,
            "credits": len(lines),
            "by": created_by,
        },
    )
    if made.one_or_none() is None:
        return False
    driver = await ledger.driver_of(session)
    async with (
        driver.cursor() as cursor,
        cursor.copy("COPY bonus_batch_credits (batch_id, line, wallet_id, amount, points) FROM STDIN") as copy,
    ):
        prefix = f"{batch_id}\t"
        chunk = []
        for n, line in enumerate(lines):
            amount = "\\N" if line.amount is None else str(line.amount)
            points = "\\N" if line.points is None else str(line.points)
            chunk.append(f"{prefix}{n}\t{line.wallet_id}\t{amount}\t{points}\n")
            if len(chunk) >= 10_000:
                await copy.write("".join(chunk))
                chunk = []
        if chunk:
            await copy.write("".join(chunk))
    return True


async def batch(session: AsyncSession, batch_id: uuid.UUID) -> Batch | None:
    row = (
        await session.execute(
            text("SELECT id, currency, points_rate, reason, credits FROM bonus_batches WHERE id = :id"),
            {"id": batch_id},
        )
    ).one_or_none()
    if row is None:
        return None
    return Batch(row.id, row.currency.strip(), row.points_rate, row.reason, int(row.credits))


async def batch_lines(session: AsyncSession, batch_id: uuid.UUID, first: int, count: int) -> list[BatchLine]:
    rows = await session.execute(
        text(
            "SELECT wallet_id, amount, points FROM bonus_batch_credits WHERE batch_id = :id AND line >= :first"
            " AND line < :last ORDER BY line"
        ),
        {"id": batch_id, "first": first, "last": first + count},
    )
    return [BatchLine(r.wallet_id, r.amount, r.points) for r in rows]
