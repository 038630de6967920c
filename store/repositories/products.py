"""Credit products and their versions; which version is in force at a moment."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Product:
    id: uuid.UUID
    code: str
    name: str
    currency: str


@dataclass(frozen=True)
class ProductVersion:
    id: uuid.UUID
    product_id: uuid.UUID
    version: int
    valid_from: datetime
    terms: dict[str, Any]
    profile: str | None
    min_repaid_loans: int
    max_repaid_loans: int | None


async def add_product(session: AsyncSession, *, code: str, name: str, currency: str) -> Product | None:
    """None when the code is taken."""
    product_id = await session.scalar(
        text(
            "INSERT INTO credit_products (id, code, name, currency) VALUES (:id, :code, :name, :currency) "
            "ON CONFLICT (code) DO NOTHING RETURNING id"
        ),
        {"id": uuid.uuid4(), "code": code, "name": name, "currency": currency},
    )
    return None if product_id is None else await product(session, product_id)


async def product(session: AsyncSession, product_id: uuid.UUID) -> Product | None:
    row = (
        await session.execute(
            text("SELECT id, code, name, currency FROM credit_products WHERE id = :id"), {"id": product_id}
        )
    ).one_or_none()
    return None if row is None else Product(row.id, row.code, row.name, row.currency.strip())


async def products(session: AsyncSession) -> list[Product]:
    rows = await session.execute(text("SELECT id, code, name, currency FROM credit_products ORDER BY code"))
    return [Product(r.id, r.code, r.name, r.currency.strip()) for r in rows]


async def add_version(
    session: AsyncSession,
    *,
    product_id: uuid.UUID,
    valid_from: datetime,
    terms: dict[str, Any],
    profile: str | None,
    min_repaid_loans: int,
    max_repaid_loans: int | None,
) -> ProductVersion:
    # Versions of one product are numbered in order; the product row is locked so two staff cannot both be "v3".
    await session.execute(text("SELECT 1 FROM credit_products WHERE id = :id FOR UPDATE"), {"id": product_id})
    number = await session.scalar(
        text("SELECT coalesce(max(version), 0) + 1 FROM credit_product_versions WHERE product_id = :id"),
        {"id": product_id},
    )
    version_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO credit_product_versions (id, product_id, version, valid_from, terms, profile, "
            "min_repaid_loans, max_repaid_loans) VALUES (:id, :product, :version, :valid_from, CAST(:terms AS jsonb), "
            ":profile, :min_repaid, :max_repaid)"
        ),
        {
            "id": version_id,
            "product": product_id,
            "version": number,
            "valid_from": valid_from,
            "terms": _json(terms),
            "profile": profile,
            "min_repaid": min_repaid_loans,
            "max_repaid": max_repaid_loans,
        },
    )
    return ProductVersion(
        version_id, product_id, int(number or 1), valid_from, terms, profile, min_repaid_loans, max_repaid_loans
    )


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value)


_VERSION_COLUMNS = "id, product_id, version, valid_from, terms, profile, min_repaid_loans, max_repaid_loans"


async def versions(session: AsyncSession, product_id: uuid.UUID) -> list[ProductVersion]:
    rows = await session.execute(
        text(f"SELECT {_VERSION_COLUMNS} FROM credit_product_versions WHERE product_id = :id ORDER BY version"),
        {"id": product_id},
    )
    return [ProductVersion(*r) for r in rows]


async def version(session: AsyncSession, version_id: uuid.UUID) -> ProductVersion | None:
    row = (
        await session.execute(
            text(f"SELECT {_VERSION_COLUMNS} FROM credit_product_versions WHERE id = :id"), {"id": version_id}
        )
    ).one_or_none()
    return None if row is None else ProductVersion(*row)


async def version_in_force(session: AsyncSession, product_id: uuid.UUID, at: datetime) -> ProductVersion | None:
    """The version a loan started at `at` gets: the newest whose valid_from is not after `at`."""
    row = (
        await session.execute(
            text(
                f"SELECT {_VERSION_COLUMNS} FROM credit_product_versions WHERE product_id = :id AND valid_from <= :at "
                "ORDER BY valid_from DESC, version DESC LIMIT 1"
            ),
            {"id": product_id, "at": at},
        )
    ).one_or_none()
    return None if row is None else ProductVersion(*row)
