"""`POST /v1/staff/token`: staff sign in with e-mail and password."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from sqlalchemy import func, select

from api.dependencies import AuditLog, Db, Resources, client_address
from api.problems import Problem
from api.security.passwords import password_matches
from api.security.tokens import Principal, issue_token
from api.staff.schemas import StaffTokenRequest, StaffTokenResponse
from store.models import AuditRecord
from store.repositories.audit import Actor
from store.repositories.identity import staff_by_email

router = APIRouter(prefix="/v1/staff", tags=["staff sign-in"])

FAILED_SIGN_INS_ALLOWED = 10
FAILED_SIGN_IN_WINDOW = timedelta(minutes=15)


@router.post("/token", response_model=StaffTokenResponse)
async def staff_token(body: StaffTokenRequest, request: Request, db: Db, resources: Resources) -> StaffTokenResponse:
    audit = AuditLog(db, None, client_address(request))
    email = body.email.lower()
    failures = await db.scalar(
        select(func.count()).where(
            AuditRecord.action == "staff.sign_in",
            AuditRecord.outcome == "denied",
            AuditRecord.target_id == email,
            AuditRecord.at >= datetime.now(UTC) - FAILED_SIGN_IN_WINDOW,
        )
    )
    if (failures or 0) >= FAILED_SIGN_INS_ALLOWED:
        raise Problem(429, "rate_limited", "too many failed sign-ins; try again later")
    member = await staff_by_email(db, email)
    valid = password_matches(member.password_hash if member else None, body.password)
    if member is None or not valid or not member.active:
        await audit.record("staff.sign_in", target_type="staff", target_id=email, outcome="denied")
        await db.commit()
        raise Problem(401, "invalid_credentials", "the e-mail or password is not valid")
    principal = Principal(
        kind="staff", id=member.id, roles=tuple(member.roles), projects=tuple(member.projects), label=member.email
    )
    await audit.record(
        "staff.sign_in", target_type="staff", target_id=email, actor=Actor("staff", member.id, member.email)
    )
    ttl = timedelta(minutes=resources.settings.jwt_ttl_minutes)
    return StaffTokenResponse(
        access_token=issue_token(principal, resources.settings.jwt_secret, ttl),
        expires_in=int(ttl.total_seconds()),
        roles=list(member.roles),
    )
