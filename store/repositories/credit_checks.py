"""What bureaus, scoring and anti-fraud said about an application, and the underwriting rules per product."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class CreditCheck:
    application_id: uuid.UUID
    kind: str
    provider: str
    reference: str
    status: str
    summary: dict[str, Any]
    created_at: datetime
    received_at: datetime | None


async def record_check(
    session: AsyncSession,
    *,
    application_id: uuid.UUID,
    user_id: uuid.UUID,
    kind: str,
    provider: str,
    reference: str,
    status: str,
    summary: dict[str, Any],
) -> bool:
    """Stores the check once per provider reference; a later word (a score callback) completes a pending one.
    False when it was already received (a replay changes nothing)."""
    changed = await session.scalar(
        text(
            "INSERT INTO credit_checks (application_id, user_id, kind, provider, reference, status, summary,"
            " received_at) VALUES (:app, :user, :kind, :provider, :ref, :status, CAST(:summary AS jsonb),"
            " CASE WHEN :status = 'pending' THEN NULL ELSE now() END)"
            " ON CONFLICT (provider, kind, reference) DO UPDATE SET status = excluded.status,"
            " summary = excluded.summary, received_at = excluded.received_at"
            " WHERE credit_checks.status = 'pending' AND excluded.status <> 'pending' RETURNING id"
        ),
        {
            "app": application_id,
            "user": user_id,
            "kind": kind,
            "provider": provider,
            "ref": reference,
            "status": status,
            "summary": json.dumps(summary),
        },
    )
    return changed is not None


async def checks_for_application(session: AsyncSession, application_id: uuid.UUID) -> list[CreditCheck]:
    rows = await session.execute(
        text(
            "SELECT application_id, kind, provider, reference, status, summary, created_at, received_at"
            " FROM credit_checks WHERE application_id = :app ORDER BY id"
        ),
        {"app": application_id},
    )
    return [CreditCheck(*r) for r in rows]


async def checks_for_user(session: AsyncSession, user_id: uuid.UUID, limit: int = 200) -> list[CreditCheck]:
    rows = await session.execute(
        text(
            "SELECT application_id, kind, provider, reference, status, summary, created_at, received_at"
            " FROM credit_checks WHERE user_id = :user ORDER BY id DESC LIMIT :limit"
        ),
        {"user": user_id, "limit": limit},
    )
    return [CreditCheck(*r) for r in rows]


@dataclass(frozen=True)
class RuleSet:
    id: uuid.UUID
    product_id: uuid.UUID
    version: int
    rules: dict[str, Any]
    created_at: datetime


async def add_rule_set(
    session: AsyncSession, *, product_id: uuid.UUID, rules: dict[str, Any], staff_id: uuid.UUID
) -> RuleSet:
    await session.execute(text("SELECT 1 FROM credit_products WHERE id = :id FOR UPDATE"), {"id": product_id})
    row = (
        await session.execute(
            text(
                "INSERT INTO credit_rule_sets (id, product_id, version, rules, created_by) SELECT :id, :product,"
                " coalesce(max(version), 0) + 1, CAST(:rules AS jsonb), :staff FROM credit_rule_sets"
                " WHERE product_id = :product RETURNING id, product_id, version, rules, created_at"
            ),
            {"id": uuid.uuid4(), "product": product_id, "rules": json.dumps(rules), "staff": staff_id},
        )
    ).one()
    return RuleSet(*row)


async def rule_set_in_force(session: AsyncSession, product_id: uuid.UUID) -> RuleSet | None:
    row = (
        await session.execute(
            text(
                "SELECT id, product_id, version, rules, created_at FROM credit_rule_sets WHERE product_id = :product"
                " ORDER BY version DESC LIMIT 1"
            ),
            {"product": product_id},
        )
    ).one_or_none()
    return None if row is None else RuleSet(*row)
