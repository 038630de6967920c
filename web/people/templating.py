"""Rendering the borrower's and partner's pages in the person's language: Jinja's i18n extension with gettext from
the catalogs (services/i18n.py), and filters that show money, dates and times in the person's locale and time zone
(web/formatting.py, babel). The language and zone travel in the template's context, never in a global, so two
requests in two languages never mix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context

from domain.language import LANGUAGE_NAMES, LANGUAGES
from services import formatting
from services.i18n import translator
from web.console.templating import SECURITY_HEADERS
from web.people.session import Person, anonymous_language, face_of
from web.people.vocabulary import vocabulary

TEMPLATES = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
)


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translator(context.get("language", "en")).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return translator(context.get("language", "en")).ngettext(singular, plural, count)


@pass_context
def _money(context: Context, amount: int | None, currency: str) -> str:
    return formatting.money(amount, currency, context.get("language", "en"))


@pass_context
def _day(context: Context, value: Any) -> str:
    return formatting.day(value, context.get("language", "en"))


@pass_context
def _moment(context: Context, value: Any) -> str:
    return formatting.moment(value, context.get("zone", "UTC"), context.get("language", "en"))


@pass_context
def _number(context: Context, value: Any) -> str:
    return formatting.number(value, context.get("language", "en"))


TEMPLATES.env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
TEMPLATES.env.filters.update(money=_money, day=_day, moment=_moment, number=_number)


def render(
    request: Any,
    template: str,
    context: dict[str, Any],
    *,
    person: Person | None = None,
    status: int = 200,
    zone: str = "UTC",
) -> HTMLResponse:
    language = person.language if person else anonymous_language(request)
    base: dict[str, Any] = {
        "request": request,
        "person": person,
        "csrf": person.csrf if person else "",
        "language": language,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "zone": person.zone if person else zone,
        "face": face_of(request),
        **vocabulary(language),
    }
    response = TEMPLATES.TemplateResponse(request, template, {**base, **context}, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Content-Language"] = language
    return response
