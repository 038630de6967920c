"""One application, followed live: the steps (checking → decision → offer → sign → card → paid) and, at each, what
the borrower does next: accept the offer, read the agreement (on the page and as the PDF whose hash the signature
covers), sign with the SMS code, link a card on the payment provider's page (lendflow never sees the number).
The page's live part is swapped when the status moves (server-sent events, web/static/people.js)."""

from __future__ import annotations

import hmac
import secrets
import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from api.applications.borrower import status_events
from web.people.common import Signed, api, back_to, page, said
from web.people.session import resources_of
from web.platform_api import ApiProblem

router = APIRouter()
CARD_STATE = "lendflow_card_state"
STEPS = ("checking", "offered", "awaiting_signature", "awaiting_card", "disbursing", "disbursed")
STEP_OF = {"received": 0, "checking": 0, "manual_review": 0}


def _step(status: str) -> int:
    return STEP_OF.get(status, STEPS.index(status) if status in STEPS else -1)


async def _page(person: Signed, application_id: uuid.UUID, status: int = 200, **extra: Any) -> HTMLResponse:
    async with api(person) as client:
        app = await client.get(f"/v1/applications/{application_id}")
        agreement = None
        if app["status"] in ("awaiting_signature", "awaiting_card", "disbursing", "disbursed"):
            try:
                agreement = await client.get(f"/v1/applications/{application_id}/agreement")
            except ApiProblem:
                agreement = None
    return page(
        person,
        "account/application.html",
        http_status=status,
        active="home",
        app=app,
        agreement=agreement,
        step=_step(app["status"]),
        **extra,
    )


@router.get("/applications/{application_id}", response_class=HTMLResponse)
async def application(person: Signed, application_id: uuid.UUID) -> HTMLResponse:
    return await _page(person, application_id)


@router.get("/applications/{application_id}/events")
async def events(person: Signed, application_id: uuid.UUID) -> Response:
    """The API's own event stream, for the page's script (an EventSource sends the cookie, not a token)."""
    async with api(person) as client:
        await client.get(f"/v1/applications/{application_id}")  # 404 unless it is this borrower's
    return StreamingResponse(
        status_events(resources_of(person.request), application_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _act(person: Signed, application_id: uuid.UUID, path: str, body: Any, done: str) -> Response:
    try:
        async with api(person) as client:
            await client.send("POST", f"/v1/applications/{application_id}/{path}", body)
    except ApiProblem as refused:
        return await _page(
            person, application_id, refused.status if refused.status >= 400 else 422, problem=said(person, refused)
        )
    return back_to(f"/account/applications/{application_id}", done)


@router.post("/applications/{application_id}/accept", response_class=HTMLResponse)
async def accept(person: Signed, application_id: uuid.UUID) -> Response:
    await person.form()
    return await _act(person, application_id, "accept", None, "accepted")


@router.post("/applications/{application_id}/sign", response_class=HTMLResponse)
async def sign(person: Signed, application_id: uuid.UUID) -> Response:
    form = await person.form()
    code = "".join(ch for ch in form.get("code", "") if ch.isascii() and ch.isdigit())[:6]
    return await _act(person, application_id, "sign", {"code": code}, "signed")


@router.post("/applications/{application_id}/resend", response_class=HTMLResponse)
async def resend(person: Signed, application_id: uuid.UUID) -> Response:
    await person.form()
    return await _act(person, application_id, "sign/resend", None, "code_sent")


@router.post("/applications/{application_id}/cancel", response_class=HTMLResponse)
async def cancel(person: Signed, application_id: uuid.UUID) -> Response:
    await person.form()
    return await _act(person, application_id, "cancel", {"reason": "withdrawn by the borrower"}, "cancelled")


@router.post("/applications/{application_id}/card", response_class=HTMLResponse)
async def to_card_page(person: Signed, application_id: uuid.UUID) -> Response:
    """Off to the payment provider's page; it sends the browser back to `card-return`."""
    await person.form()
    settings = resources_of(person.request).settings
    # The address the browser is on (behind a proxy: with its forwarded headers trusted, docs/deployment.md).
    here = f"{str(person.request.base_url).rstrip('/')}/account/applications/{application_id}"
    state = secrets.token_urlsafe(24)
    try:
        async with api(person) as client:
            found = await client.send(
                "POST",
                f"/v1/applications/{application_id}/card-page",
                {"return_url": f"{here}/card-return?state={state}", "cancel_url": here},
            )
    except ApiProblem as refused:
        return await _page(person, application_id, refused.status, problem=said(person, refused))
    response = RedirectResponse(found["url"], status_code=303)
    response.set_cookie(
        CARD_STATE,
        f"{application_id}:{state}",
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/account",
    )
    return response


@router.get("/applications/{application_id}/card-return", response_class=HTMLResponse)
async def card_return(
    person: Signed, application_id: uuid.UUID, state: str = "", payment_method: str = "", session_id: str = ""
) -> Response:
    """Back from the provider's page with what it set up. A GET that acts, as every provider return does, so it
    acts only with the state this browser was given when it left (a link someone else made cannot attach their
    card to this borrower's loan); the workflow links one card once, so a reload changes nothing."""
    expected = person.request.cookies.get(CARD_STATE, "")
    if not state or not hmac.compare_digest(expected, f"{application_id}:{state}"):
        refused = ApiProblem(status=403, detail="the card page's return did not match this browser", code="forbidden")
        return await _page(person, application_id, 403, problem=said(person, refused))
    body = {"setup_session": session_id[:255]} if session_id else {"payment_method": payment_method[:255]}
    return await _act(person, application_id, "card", body, "card_linked")


@router.get("/applications/{application_id}/agreement.pdf")
async def agreement_pdf(person: Signed, application_id: uuid.UUID) -> Response:
    async with api(person) as client:
        answer = await client.get_text(f"/v1/applications/{application_id}/agreement.pdf", "application/pdf")
    return Response(
        answer.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": answer.headers.get("content-disposition", "attachment"),
            "Cache-Control": "no-store",
        },
    )
