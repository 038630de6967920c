"""The ledger explorer: journal entries with their postings, filtered by account, kind and value dates."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from web.console.api_client import ApiProblem
from web.console.pages.common import Signed, api, page, problem_status, whole

router = APIRouter()


@router.get("/ledger", response_class=HTMLResponse)
async def entries(
    console: Signed, account_id: str = "", kind: str = "", value_from: str = "", value_to: str = "", after: str = ""
) -> HTMLResponse:
    console.require("accountant", "support")
    params = {
        "account_id": whole(account_id),
        "kind": kind.strip() or None,
        "from": value_from or None,
        "to": value_to or None,
        "starting_after": whole(after),
    }
    found, problem = {"data": [], "has_more": False}, None
    try:
        async with api(console) as client:
            found = await client.get("/v1/staff/ledger/entries", limit=100, **params)
    except ApiProblem as refused:
        problem = refused
    filters = {"account_id": account_id, "kind": kind, "value_from": value_from, "value_to": value_to}
    status = problem_status(problem) if problem else 200
    return page(console, "ledger.html", "ledger", http_status=status, found=found, filters=filters, problem=problem)
