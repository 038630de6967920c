"""Close of business: the calendar, past runs, and a run up to a date whose progress bar follows the workflow
(dates closed of the dates asked, loans of the date being closed)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response

from web.console.api_client import ApiProblem
from web.console.pages.common import Signed, api, back_to, page, problem_status

router = APIRouter()
ROLES = ("underwriter", "collector", "accountant")


def progress_of(view: dict[str, Any]) -> dict[str, Any]:
    """What the bar shows: the share of the work done, counting each date as one part and the loans of the date
    being closed as the share of its part."""
    found = view.get("progress")
    if not found:
        return {"running": False, "fraction": 1.0, "text": "No run in progress."}
    per_date = 1 / max(found["dates_total"], 1)
    within = found["loans_done"] / found["loans_total"] if found["loans_total"] else 0
    fraction = min(1.0, found["dates_closed"] * per_date + within * per_date)
    text = f"{found['dates_closed']} of {found['dates_total']} dates closed"
    if found["current_date"]:
        text += f" · closing {found['current_date']}: {found['loans_done']} of {found['loans_total']} loans accrued"
    return {"running": True, "fraction": round(fraction, 4), "text": text}


@router.get("/cob", response_class=HTMLResponse)
async def calendar(console: Signed, flash: str = "") -> HTMLResponse:
    console.require(*ROLES)
    async with api(console) as client:
        view = await client.get("/v1/staff/cob")
    return page(
        console,
        "cob.html",
        "cob",
        view=view,
        progress=progress_of(view),
        may_run=console.staff.may("accountant"),
        flash=flash,
    )


@router.get("/cob/progress")
async def progress(console: Signed) -> JSONResponse:
    console.require(*ROLES)
    async with api(console) as client:
        view = await client.get("/v1/staff/cob")
    return JSONResponse(progress_of(view), headers={"Cache-Control": "no-store"})


@router.post("/cob")
async def run(console: Signed) -> Response:
    console.require("accountant")
    form = await console.form()
    try:
        async with api(console) as client:
            # Started, not waited for: the page follows it.
            await client.send("POST", "/v1/staff/cob", {"until": form.get("until", "")}, wait_s=0)
    except ApiProblem as problem:
        async with api(console) as client:
            view = await client.get("/v1/staff/cob")
        return page(
            console,
            "cob.html",
            "cob",
            http_status=problem_status(problem),
            view=view,
            progress=progress_of(view),
            may_run=True,
            problem=problem,
        )
    return back_to("/console/cob", "Close of business started")
