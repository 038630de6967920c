"""`POST /v1/staff/token`: staff sign in with e-mail and password."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from sqlalchemy import func, select

from api.dependencies import AuditLog, Db, Resources, client_address
from api.problems import Problem
from api.security.passwords import password_matches
from api.security.sign_in_throttle import WINDOW, Failures, retry_after
from api.security.tokens import Principal, issue_token
from api.staff.schemas import StaffTokenRequest, StaffTokenResponse
from store.models import AuditRecord
from store.repositories.audit import Actor
from store.repositories.identity import staff_by_email

router = APIRouter(prefix="/v1/staff", tags=["staff sign-in"])


async def recent_failures(db: Db, account: str, address: str) -> Failures:
    denied = (
        AuditRecord.action == "staff.sign_in",
        AuditRecord.outcome == "denied",
        AuditRecord.at >= datetime.now(UTC) - WINDOW,
    )
    row = (
        await db.execute(
            select(
                func.count().filter(AuditRecord.client_address == address).label("from_address"),
                func.count()
                .filter(AuditRecord.client_address == address, AuditRecord.target_id == account)
                .label("pair"),
                func.count().filter(AuditRecord.target_id == account).label("account"),
                func.max(AuditRecord.at).filter(AuditRecord.target_id == account).label("last"),
            ).where(*denied)
        )
    ).one()
    return Failures(int(row.from_address), int(row.pair), int(row.account), row.last)


@router.post("/token", response_model=StaffTokenResponse)
async def staff_token(body: StaffTokenRequest, request: Request, db: Db, resources: Resources) -> StaffTokenResponse:
    """Throttled per address and per account with backoff (api/security/sign_in_throttle.py), never a lockout
    of the account's owner for the whole window because somebody else guessed."""
    address = client_address(request)
    audit = AuditLog(db, None, address)
    email = body.email.lower()
    # The audit log names the account tried by a digest of its e-mail: an address typed by a stranger is not kept
    # in clear, any length fits the column, and the throttle still counts per account.
    account = hashlib.sha256(email.encode()).hexdigest()
    wait = retry_after(await recent_failures(db, account, address), datetime.now(UTC))
    if wait is not None:
        seconds = max(1, math.ceil(wait.total_seconds()))
        raise Problem(
            429,
            "rate_limited",
            f"too many failed sign-ins; try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
        )
    member = await staff_by_email(db, email)
    valid = password_matches(member.password_hash if member else None, body.password)
    if member is None or not valid or not member.active:
        await audit.record("staff.sign_in", target_type="staff_email", target_id=account, outcome="denied")
        await db.commit()
        raise Problem(401, "invalid_credentials", "the e-mail or password is not valid")
    principal = Principal(
        kind="staff", id=member.id, roles=tuple(member.roles), projects=tuple(member.projects), label=member.email
    )
    await audit.record(
        "staff.sign_in", target_type="staff_email", target_id=account, actor=Actor("staff", member.id, member.email)
    )
    ttl = timedelta(minutes=resources.settings.jwt_ttl_minutes)
    return StaffTokenResponse(
        access_token=issue_token(principal, resources.settings.jwt_secret, ttl),
        expires_in=int(ttl.total_seconds()),
        roles=list(member.roles),
    )
