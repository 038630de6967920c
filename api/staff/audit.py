"""`GET /v1/staff/audit`: who did what, when, to what — newest first, paged by id."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.constrained import MAX_DB_INT
from api.dependencies import Db, StaffWith
from api.staff.schemas import AuditPage, AuditRecordView
from store.repositories.audit import audit_page

router = APIRouter(prefix="/v1/staff", tags=["audit"])


@router.get("/audit", response_model=AuditPage)
async def read_audit(
    _: StaffWith("accountant", "support"),
    db: Db,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    starting_after: Annotated[int | None, Query(ge=1, le=MAX_DB_INT)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor_id: uuid.UUID | None = None,
    target_type: Annotated[str | None, Query(max_length=64)] = None,
    target_id: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[datetime | None, Query(description="records at or after this time")] = None,
    until: Annotated[datetime | None, Query(description="records before this time")] = None,
) -> AuditPage:
    """Filters combine: an action, who did it, what it was done to, and a time window."""
    rows = await audit_page(
        db,
        limit=limit + 1,
        starting_after=starting_after,
        action=action,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
    )
    return AuditPage(
        data=[AuditRecordView.model_validate(row, from_attributes=True) for row in rows[:limit]],
        has_more=len(rows) > limit,
    )
