"""Accounts for ledger stories: a funding source that may go negative and wallets that may not."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from domain.ledger import AccountKind
from store import ledger


async def source(session: AsyncSession, currency: str = "USD", name: str = "funding") -> int:
    return await ledger.open_account(
        session,
        code=f"test:{name}:{currency}",
        owner_type="company",
        owner_id=None,
        currency=currency,
        kind=AccountKind.ASSET,
        allow_negative=True,
    )


async def wallet(session: AsyncSession, name: str, currency: str = "USD") -> int:
    return await ledger.open_account(
        session,
        code=f"test:wallet:{name}:{currency}",
        owner_type="user",
        owner_id=None,
        currency=currency,
        kind=AccountKind.LIABILITY,
        allow_negative=False,
    )
