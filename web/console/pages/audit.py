"""The audit log with its filters: an action, who did it, what it was done to, and when."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from web.console.api_client import ApiProblem
from web.console.pages.common import Signed, api, page, problem_status

router = APIRouter()


@router.get("/audit", response_class=HTMLResponse)
async def audit(
    console: Signed,
    action: str = "",
    actor_id: str = "",
    target_type: str = "",
    target_id: str = "",
    since: str = "",
    until: str = "",
    after: str = "",
) -> HTMLResponse:
    console.require("accountant", "support")
    filters = {"action": action, "actor_id": actor_id, "target_type": target_type, "target_id": target_id}
    found, problem = {"data": [], "has_more": False}, None
    try:
        async with api(console) as client:
            found = await client.get(
                "/v1/staff/audit",
                limit=100,
                starting_after=after or None,
                since=_moment(since),
                until=_moment(until),
                **filters,
            )
    except ApiProblem as refused:
        problem = refused
    status = problem_status(problem) if problem else 200
    query = {**filters, "since": since, "until": until}
    return page(console, "audit.html", "audit", http_status=status, found=found, filters=query, problem=problem)


def _moment(typed: str) -> str | None:
    if not typed:
        return None
    try:
        return datetime.fromisoformat(typed).strftime("%Y-%m-%dT%H:%M:%S") + "Z"
    except ValueError:
        return typed  # the API says what is wrong with it
