"""What the platform sent the borrower (SMS and e-mail), newest first; codes are not shown again."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from web.people.common import Signed, api, page

router = APIRouter()


@router.get("/messages", response_class=HTMLResponse)
async def messages(person: Signed) -> HTMLResponse:
    async with api(person) as client:
        found = await client.get("/v1/me/messages", limit=100)
    return page(person, "account/messages.html", active="messages", messages=found["data"])
