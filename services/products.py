"""Configuring credit products: the one path by which a product version comes to exist, for staff (the API) and for
seed data alike, so a version is always checked and held to its regulatory profile's caps before it is stored."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.lending.products import ProductInvalid, caps_to_stored, check_terms, terms_from_stored
from domain.lending.profiles import hold_to_profile
from store.repositories import products as product_store


class ProductNotFound(LookupError):
    pass


@dataclass(frozen=True)
class VersionDraft:
    """A version as staff write it: terms as stored (JSON: rates as decimal strings), the profile that holds it."""

    valid_from: datetime
    terms: Mapping[str, Any]
    profile: str | None = None
    min_repaid_loans: int = 0
    max_repaid_loans: int | None = None


def checked_terms(draft: VersionDraft, currency: str, *, valid_from: datetime | None = None) -> dict[str, Any]:
    """The terms to store: checked, and carrying the profile's caps when a profile holds them (every loan signed
    under the version is then held to them). `ProductInvalid` names every problem."""
    when = valid_from or draft.valid_from
    problems = []
    if when.tzinfo is None:
        problems.append("valid_from needs a time zone")
    if draft.max_repaid_loans is not None and draft.max_repaid_loans < draft.min_repaid_loans:
        problems.append("segment: max_repaid_loans is below min_repaid_loans")
    if problems:
        raise ProductInvalid(problems)
    stored = dict(draft.terms)
    terms = terms_from_stored(stored, currency)
    if draft.profile is None:
        check_terms(terms)
    else:
        held = hold_to_profile(terms, draft.profile, when.date())
        stored["caps"] = caps_to_stored(held.caps)
    return stored


async def add_version(
    session: AsyncSession, product_id: uuid.UUID, draft: VersionDraft
) -> product_store.ProductVersion:
    product = await product_store.product(session, product_id)
    if product is None:
        raise ProductNotFound(str(product_id))
    stored = checked_terms(draft, product.currency)
    return await product_store.add_version(
        session,
        product_id=product.id,
        valid_from=draft.valid_from,
        terms=stored,
        profile=draft.profile,
        min_repaid_loans=draft.min_repaid_loans,
        max_repaid_loans=draft.max_repaid_loans,
    )
