"""Users (by phone), staff (by e-mail) and one-time sign-in codes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import OtpChallenge, StaffMember, User
from store.pii import PiiCipher


async def user_for_phone(session: AsyncSession, cipher: PiiCipher, phone: str) -> User:
    """The user who owns this phone, created on first sign-in (race-safe: the lookup is unique)."""
    lookup = cipher.lookup(phone)
    await session.execute(
        insert(User)
        .values(id=uuid.uuid4(), phone_lookup=lookup, phone_encrypted=cipher.encrypt(phone), kind="customer")
        .on_conflict_do_nothing(index_elements=["phone_lookup"])
    )
    user = await session.scalar(select(User).where(User.phone_lookup == lookup))
    assert user is not None
    return user


async def user_by_phone(session: AsyncSession, cipher: PiiCipher, phone: str) -> User | None:
    """The user who signed in with this phone, if any (never creates one: a transfer names an existing user)."""
    return await session.scalar(select(User).where(User.phone_lookup == cipher.lookup(phone)))


async def user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.scalar(select(User).where(User.id == user_id))


async def staff_member(session: AsyncSession, staff_id: uuid.UUID) -> StaffMember | None:
    return await session.scalar(select(StaffMember).where(StaffMember.id == staff_id))


async def staff_members(session: AsyncSession, limit: int, starting_after: str | None) -> list[StaffMember]:
    query = select(StaffMember).order_by(StaffMember.email).limit(limit)
    if starting_after is not None:
        query = query.where(StaffMember.email > starting_after)
    return list(await session.scalars(query))


async def change_staff_member(
    session: AsyncSession,
    staff_id: uuid.UUID,
    *,
    roles: list[str] | None,
    projects: list[str] | None,
    active: bool | None,
) -> StaffMember | None:
    changes: dict[str, object] = {}
    if roles is not None:
        changes["roles"] = roles
    if projects is not None:
        changes["projects"] = projects
    if active is not None:
        changes["active"] = active
    if changes:
        await session.execute(update(StaffMember).where(StaffMember.id == staff_id).values(**changes))
    return await session.scalar(
        select(StaffMember).where(StaffMember.id == staff_id).execution_options(populate_existing=True)
    )


async def staff_by_email(session: AsyncSession, email: str) -> StaffMember | None:
    return await session.scalar(select(StaffMember).where(func.lower(StaffMember.email) == email.lower()))


async def add_staff_member(
    session: AsyncSession, *, email: str, password_hash: str, roles: list[str], projects: list[str]
) -> StaffMember | None:
    """None when the e-mail is taken."""
    staff_id = await session.scalar(
        insert(StaffMember)
        .values(
            id=uuid.uuid4(),
            email=email.lower(),
            password_hash=password_hash,
            roles=roles,
            projects=projects,
            active=True,
        )
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(StaffMember.id)
    )
    return None if staff_id is None else await session.get(StaffMember, staff_id)


async def recent_otp_requests(
    session: AsyncSession, *, phone_lookup: bytes, client_address: str, since: datetime
) -> tuple[int, int]:
    """How many codes were asked in the window: for this phone, and from this address."""
    by_phone = await session.scalar(
        select(func.count()).where(OtpChallenge.phone_lookup == phone_lookup, OtpChallenge.created_at >= since)
    )
    by_address = await session.scalar(
        select(func.count()).where(OtpChallenge.client_address == client_address, OtpChallenge.created_at >= since)
    )
    return int(by_phone or 0), int(by_address or 0)


async def open_challenge(
    session: AsyncSession,
    *,
    phone_lookup: bytes,
    code_hash: bytes,
    client_address: str,
    ttl: timedelta,
    message_id: uuid.UUID,
) -> OtpChallenge:
    now = datetime.now(UTC)
    # A new code replaces older unused ones: only the latest code works.
    await session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.phone_lookup == phone_lookup, OtpChallenge.consumed_at.is_(None))
        .values(consumed_at=now)
    )
    challenge = OtpChallenge(
        id=uuid.uuid4(),
        phone_lookup=phone_lookup,
        code_hash=code_hash,
        client_address=client_address,
        expires_at=now + ttl,
        attempts=0,
        message_id=message_id,
        created_at=now,
    )
    session.add(challenge)
    await session.flush()
    return challenge


async def live_challenge(session: AsyncSession, phone_lookup: bytes) -> OtpChallenge | None:
    """The phone's current code, locked so two concurrent guesses count as two attempts."""
    return await session.scalar(
        select(OtpChallenge)
        .where(
            OtpChallenge.phone_lookup == phone_lookup,
            OtpChallenge.consumed_at.is_(None),
            OtpChallenge.expires_at > func.now(),
        )
        .order_by(OtpChallenge.created_at.desc())
        .limit(1)
        .with_for_update()
    )
