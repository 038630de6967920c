"""Rendering console pages: one Jinja environment (autoescaped), the filters that show money, dates and shares
the same way everywhere, and the headers every page carries (no caching of personal data, no framing, scripts
and styles from this origin only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services import formatting
from web.console.menu import visible
from web.console.session import Console, resources_of

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))
TEMPLATES.env.filters.update(
    money=formatting.money, number=formatting.number, share=formatting.share, day=formatting.day
)
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _moment(value: Any, zone: str) -> str:
    return formatting.moment(value, zone)


def render(
    request: Any, template: str, context: dict[str, Any], *, console: Console | None = None, status: int = 200
) -> HTMLResponse:
    zone = resources_of(request).settings.market_timezone
    base: dict[str, Any] = {
        "request": request,
        "console": console,
        "staff": console.staff if console else None,
        "menu": visible(console.staff) if console else [],
        "csrf": console.csrf if console else "",
        "moment": lambda value: _moment(value, zone),
    }
    response = TEMPLATES.TemplateResponse(request, template, {**base, **context}, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response
