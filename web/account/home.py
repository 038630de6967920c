"""The account's first page: what is happening now (an application on its way, loans and what is due next),
the wallets' balances, and the way to borrow."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from contracts.origination import APPLICATION_FINAL_STATUSES
from web.people.common import Signed, api, page

router = APIRouter()


@router.get("", response_class=HTMLResponse)
async def home(person: Signed) -> HTMLResponse:
    async with api(person) as client:
        applications = (await client.get("/v1/applications"))["data"]
        loans = (await client.get("/v1/loans"))["data"]
        wallets = (await client.get("/v1/wallets"))["data"]
    in_progress = [a for a in applications if a["status"] not in APPLICATION_FINAL_STATUSES]
    current = [loan for loan in loans if loan["status"] in ("active", "overdue")]
    past = [loan for loan in loans if loan["status"] not in ("active", "overdue")]
    return page(
        person,
        "account/home.html",
        active="home",
        in_progress=in_progress,
        current=current,
        past=past,
        wallets=wallets,
        may_apply=not in_progress and not current,
    )
