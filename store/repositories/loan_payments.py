"""Money asked of a borrower's card for a loan: a repayment, an extension's price, an automatic debit. The row
moves pending → processing → succeeded | failed, only forward."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class LoanPayment:
    id: uuid.UUID
    loan_id: uuid.UUID
    purpose: str
    amount: int
    currency: str
    payment_method: str
    customer_reference: str | None
    extension_days: int | None
    status: str
    provider_reference: str | None
    failure_code: str | None
    value_date: date | None
    requested_by: uuid.UUID | None
    created_at: datetime


_COLUMNS = (
    "id, loan_id, purpose, amount, currency, payment_method, customer_reference, extension_days, status,"
    " provider_reference, failure_code, value_date, requested_by, created_at"
)


def _payment(row: Any) -> LoanPayment:
    m = row._mapping
    return LoanPayment(**{**m, "currency": m["currency"].strip()})


async def create_payment(
    session: AsyncSession,
    *,
    loan_id: uuid.UUID,
    purpose: str,
    amount: int,
    currency: str,
    payment_method: str,
    customer_reference: str | None,
    extension_days: int | None = None,
    requested_by: uuid.UUID | None = None,
    payment_id: uuid.UUID | None = None,
) -> LoanPayment:
    row = (
        await session.execute(
            text(
                f"INSERT INTO loan_payments (id, loan_id, purpose, amount, currency, payment_method,"
                f" customer_reference, extension_days, requested_by) VALUES (:id, :loan, :purpose, :amount,"
                f" :currency, :pm, :customer, :days, :by) ON CONFLICT (id) DO UPDATE SET id = excluded.id"
                f" RETURNING {_COLUMNS}"
            ),
            {
                "id": payment_id or uuid.uuid4(),
                "loan": loan_id,
                "purpose": purpose,
                "amount": amount,
                "currency": currency,
                "pm": payment_method,
                "customer": customer_reference,
                "days": extension_days,
                "by": requested_by,
            },
        )
    ).one()
    return _payment(row)


async def payment(session: AsyncSession, payment_id: uuid.UUID) -> LoanPayment | None:
    row = (
        await session.execute(text(f"SELECT {_COLUMNS} FROM loan_payments WHERE id = :id"), {"id": payment_id})
    ).one_or_none()
    return None if row is None else _payment(row)


async def payments_of(session: AsyncSession, loan_id: uuid.UUID) -> list[LoanPayment]:
    rows = await session.execute(
        text(f"SELECT {_COLUMNS} FROM loan_payments WHERE loan_id = :loan ORDER BY created_at"), {"loan": loan_id}
    )
    return [_payment(r) for r in rows]


async def update_payment(
    session: AsyncSession,
    payment_id: uuid.UUID,
    *,
    status: str,
    provider_reference: str | None = None,
    failure_code: str | None = None,
    value_date: date | None = None,
) -> bool:
    """Moves forward only: a final status is never changed (a late duplicate callback changes nothing)."""
    result = await session.execute(
        text(
            "UPDATE loan_payments SET status = :status, updated_at = now(),"
            " provider_reference = coalesce(:reference, provider_reference),"
            " failure_code = coalesce(:failure, failure_code), value_date = coalesce(:value_date, value_date)"
            " WHERE id = :id AND status NOT IN ('succeeded', 'failed')"
        ),
        {
            "id": payment_id,
            "status": status,
            "reference": provider_reference,
            "failure": failure_code,
            "value_date": value_date,
        },
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def paid_since(session: AsyncSession, loan_id: uuid.UUID, since: datetime) -> int:
    found = await session.scalar(
        text(
            "SELECT coalesce(sum(amount), 0) FROM loan_payments WHERE loan_id = :loan AND status = 'succeeded'"
            " AND created_at >= :since"
        ),
        {"loan": loan_id, "since": since},
    )
    return int(found or 0)
