"""What every console page needs: the signed-in member (`Signed`), the API as them (`api`), and a page render
that carries the menu, the CSRF token and any problem the API answered."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import HTMLResponse, RedirectResponse

from web.console.api_client import ApiProblem, ConsoleApi
from web.console.session import Console, current_console, resources_of
from web.console.templating import render

Signed = Annotated[Console, Depends(current_console)]


def api(console: Console) -> ConsoleApi:
    request = console.request
    return ConsoleApi(
        request.app,
        resources_of(request).settings,
        console.staff,
        request.client.host if request.client else None,
    )


def page(console: Console, template: str, active: str, http_status: int = 200, **context: Any) -> HTMLResponse:
    return render(
        console.request, f"console/{template}", {"active": active, **context}, console=console, status=http_status
    )


def problem_status(problem: ApiProblem) -> int:
    """The page answers with the API's status, so a refused form is never a 200."""
    return problem.status if problem.status >= 400 else 422


def back_to(path: str, flash: str = "") -> RedirectResponse:
    """After a form did its work: the page that shows the result (post/redirect/get)."""
    suffix = ("&" if "?" in path else "?") + "flash=" + flash.replace(" ", "+") if flash else ""
    return RedirectResponse(path + suffix, status_code=303)


def new_key() -> str:
    """A form's Idempotency-Key, made when the form is drawn: submitting it twice does the work once."""
    return str(uuid.uuid4())


def whole(value: str | None) -> int | None:
    """A whole number typed into a form, or None when left empty (the API says what is wrong with the rest)."""
    if value is None or not value.strip():
        return None
    try:
        return int(value.strip().replace(",", "").replace("_", ""))
    except ValueError:
        return None


def minor_units_of(value: str | None, exponent: int) -> int | None:
    """An amount typed in major units ("12.50") as integer minor units (1250), refusing more decimals than the
    currency has. Decimal arithmetic, never float."""
    from decimal import Decimal, InvalidOperation

    if value is None or not value.strip():
        return None
    try:
        amount = Decimal(value.strip().replace(",", ""))
    except InvalidOperation:
        return None
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        return None
    return int(scaled)
