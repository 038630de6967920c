"""The signed-in member's own page: who they are, their second factor, and signing out."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from store.repositories.identity import staff_member
from web.console import sign_in
from web.console.pages.common import Signed, page
from web.console.session import resources_of

router = APIRouter()


@router.get("/account", response_class=HTMLResponse)
async def account(console: Signed) -> HTMLResponse:
    async with resources_of(console.request).session_factory() as db:
        member = await staff_member(db, console.staff.id)
    enrolled = member is not None and member.totp_enrolled_at is not None
    return page(console, "account.html", "", enrolled=enrolled, enrolled_at=member.totp_enrolled_at if member else None)


@router.post("/account/two-factor")
async def set_up_two_factor(console: Signed) -> Response:
    return await sign_in.start_enrolment(console)


@router.post("/sign-out")
async def sign_out(console: Signed) -> Response:
    return await sign_in.sign_out(console)
