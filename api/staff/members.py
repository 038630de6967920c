"""Staff accounts: admins add colleagues with roles, optionally scoped to projects, list them, change their roles
and scopes and disable them (`PATCH /v1/staff/members/{id}`: effective on the member's very next request, since
every staff request reads the account from the database). Every change is in the audit log."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.dependencies import CurrentStaff, Db, StaffAudit, StaffWith
from api.problems import Problem
from api.security.passwords import hash_password
from api.staff.schemas import MemberChange, NewStaffMember, StaffMemberList, StaffMemberView
from services.staff_accounts import change_member as change_member_account
from store.models import StaffMember
from store.repositories.identity import add_staff_member, staff_member, staff_members

router = APIRouter(prefix="/v1/staff", tags=["staff accounts"])


@router.get("/me", response_model=StaffMemberView)
async def who_am_i(staff: CurrentStaff, db: Db) -> StaffMemberView:
    member = await db.get(StaffMember, staff.id)
    if member is None:
        raise Problem(404, "not_found", "this staff account no longer exists")
    return _view(member)


@router.post("/members", status_code=201, response_model=StaffMemberView)
async def add_member(body: NewStaffMember, admin: StaffWith("admin"), db: Db, audit: StaffAudit) -> StaffMemberView:
    member = await add_staff_member(
        db,
        email=body.email,
        password_hash=hash_password(body.password),
        roles=sorted(set(body.roles)),
        projects=sorted(set(body.projects)),
    )
    if member is None:
        raise Problem(409, "conflict", "a staff member with this e-mail already exists")
    await audit.record(
        "staff.member_added",
        target_type="staff",
        target_id=str(member.id),
        details={"email": member.email, "roles": member.roles, "projects": member.projects},
    )
    return _view(member)


def _view(member: StaffMember) -> StaffMemberView:
    return StaffMemberView(
        id=member.id,
        email=member.email,
        roles=member.roles,
        projects=member.projects,
        active=member.active,
        second_factor=member.totp_secret_encrypted is not None,
    )


@router.get("/members", response_model=StaffMemberList)
async def list_members(
    _: StaffWith("admin"),
    db: Db,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    starting_after: Annotated[str | None, Query(max_length=320, description="an e-mail")] = None,
) -> StaffMemberList:
    found = await staff_members(db, limit + 1, starting_after)
    return StaffMemberList(data=[_view(m) for m in found[:limit]], has_more=len(found) > limit)


@router.patch("/members/{staff_id}", response_model=StaffMemberView)
async def change_member(
    staff_id: uuid.UUID, body: MemberChange, admin: StaffWith("admin"), db: Db, audit: StaffAudit
) -> StaffMemberView:
    """Roles, project scope, or `active: false` to disable the account (its tokens stop working at once)."""
    before = await staff_member(db, staff_id)
    if before is None:
        raise Problem(404, "not_found", "no such staff member")
    if staff_id == admin.id and (body.active is False or (body.roles is not None and "admin" not in body.roles)):
        raise Problem(409, "conflict", "an admin cannot disable or demote their own account")
    changed = await change_member_account(
        db,
        staff_id,
        roles=body.roles,
        projects=body.projects,
        active=body.active,
        reset_second_factor=body.reset_second_factor,
    )
    assert changed is not None
    member, was, now = changed.member, changed.before, changed.after
    await audit.record(
        "staff.member_changed",
        target_type="staff",
        target_id=str(staff_id),
        details={"before": was, "after": now, "second_factor_reset": body.reset_second_factor},
    )
    return _view(member)
