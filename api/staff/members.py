"""Staff accounts: admins add colleagues with roles, optionally scoped to projects."""

from __future__ import annotations

from fastapi import APIRouter

from api.dependencies import CurrentStaff, Db, StaffAudit, StaffWith
from api.problems import Problem
from api.security.passwords import hash_password
from api.staff.schemas import NewStaffMember, StaffMemberView
from store.models import StaffMember
from store.repositories.identity import add_staff_member

router = APIRouter(prefix="/v1/staff", tags=["staff accounts"])


@router.get("/me", response_model=StaffMemberView)
async def who_am_i(staff: CurrentStaff, db: Db) -> StaffMemberView:
    member = await db.get(StaffMember, staff.id)
    if member is None:
        raise Problem(404, "not_found", "this staff account no longer exists")
    return StaffMemberView(
        id=member.id, email=member.email, roles=member.roles, projects=member.projects, active=member.active
    )


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
    return StaffMemberView(
        id=member.id, email=member.email, roles=member.roles, projects=member.projects, active=member.active
    )
