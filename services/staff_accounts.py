"""Staff accounts, changed the same way from the API (`/v1/staff/members`) and from an operator's shell
(`lendflow staff ...`): a change of roles, scope or state, or a reset of the second factor, ends the member's
console sessions at once (their API tokens already follow the account on every request)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import StaffMember
from store.repositories import console_sessions
from store.repositories.identity import change_staff_member, staff_member


@dataclass(frozen=True)
class MemberChanged:
    member: StaffMember
    before: dict[str, Any]
    after: dict[str, Any]


def _state(member: StaffMember) -> dict[str, Any]:
    return {"roles": list(member.roles), "projects": list(member.projects), "active": member.active}


async def change_member(
    session: AsyncSession,
    staff_id: uuid.UUID,
    *,
    roles: list[str] | None = None,
    projects: list[str] | None = None,
    active: bool | None = None,
    reset_second_factor: bool = False,
) -> MemberChanged | None:
    """None when there is no such member."""
    found = await staff_member(session, staff_id)
    if found is None:
        return None
    before = _state(found)
    member = await change_staff_member(
        session,
        staff_id,
        roles=None if roles is None else sorted(set(roles)),
        projects=None if projects is None else sorted(set(projects)),
        active=active,
    )
    assert member is not None
    after = _state(member)
    if after != before or reset_second_factor:
        await console_sessions.end_sessions_of(session, staff_id, "account changed by an admin")
    if reset_second_factor:
        await session.execute(
            update(StaffMember)
            .where(StaffMember.id == staff_id)
            .values(totp_secret_encrypted=None, totp_enrolled_at=None, totp_last_step=None)
        )
        await session.refresh(member)
    return MemberChanged(member, before, after)
