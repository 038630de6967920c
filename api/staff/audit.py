"""`GET /v1/staff/audit`: who did what, when, to what — newest first, paged by id."""

from __future__ import annotations

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
) -> AuditPage:
    rows = await audit_page(db, limit=limit + 1, starting_after=starting_after, action=action)
    return AuditPage(
        data=[AuditRecordView.model_validate(row, from_attributes=True) for row in rows[:limit]],
        has_more=len(rows) > limit,
    )
