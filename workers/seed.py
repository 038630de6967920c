"""Data a fresh installation needs: the first admin (from LENDFLOW_ADMIN_EMAIL / LENDFLOW_ADMIN_PASSWORD)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.security.passwords import hash_password
from config import Settings
from store.models import StaffMember
from store.repositories.identity import add_staff_member


async def ensure_first_admin(session_factory: async_sessionmaker[AsyncSession], settings: Settings) -> bool:
    """Creates the configured admin when no admin exists yet; True when it did. Never changes an existing
    account, so rotating the variables later does not reset anybody's password."""
    async with session_factory.begin() as session:
        any_admin = await session.scalar(select(StaffMember.id).where(StaffMember.roles.contains(["admin"])).limit(1))
        if any_admin is not None:
            return False
        created = await add_staff_member(
            session,
            email=settings.admin_email,
            password_hash=hash_password(settings.admin_password),
            roles=["admin"],
            projects=[],
        )
        return created is not None
