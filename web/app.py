"""The application lendflow serves: the API (api/app.py) and, beside it, its three faces in the browser: the staff
console under `/console`, the borrower's account under `/account` and the partner's office under `/partner`, with
their static files. The faces' refusals are pages (a redirect to sign in, a 403 or 404 page), never problem+json."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.app import create_app as create_api
from api.resources import AppResources
from config import Settings
from services.i18n import translator
from web.account import router as account_pages
from web.console.api_client import ApiProblem
from web.console.pages import router as console_pages
from web.console.session import CsrfRefused, Forbidden, SecondFactorNeeded, SignInNeeded
from web.console.sign_in import router as console_sign_in
from web.console.templating import render
from web.partner import router as partner_pages
from web.people.session import FormRefused, PersonSignInNeeded, anonymous_language, face_of
from web.people.sign_in import router as people_sign_in
from web.people.templating import render as render_for_person

STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings, resources: AppResources | None = None) -> FastAPI:
    app = create_api(settings, resources)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(console_sign_in)
    app.include_router(console_pages)
    app.include_router(people_sign_in)
    app.include_router(account_pages)
    app.include_router(partner_pages)

    @app.exception_handler(PersonSignInNeeded)
    async def _person_sign_in(request: Request, exc: PersonSignInNeeded) -> Response:
        if request.headers.get("accept", "").startswith("text/event-stream"):
            return Response(status_code=401)
        target = f"/{exc.face}/sign-in" + (f"?next={quote(exc.next_path)}" if exc.next_path else "")
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(FormRefused)
    async def _form_refused(request: Request, exc: FormRefused) -> HTMLResponse:
        _ = translator(exc.person.language if exc.person else anonymous_language(request)).gettext
        context = {"heading": _("Form refused"), "detail": _("The form has expired. Please try again.")}
        return render_for_person(request, "people/error.html", context, person=exc.person, status=403)

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, exc: SignInNeeded) -> Response:
        target = "/console/sign-in" + (f"?reason={exc.reason.replace(' ', '+')}" if exc.reason else "")
        if request.headers.get("accept", "").startswith("application/json"):
            return Response(status_code=401)
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(SecondFactorNeeded)
    async def _second_factor(request: Request, exc: SecondFactorNeeded) -> Response:
        return RedirectResponse("/console/sign-in/enrol" if exc.enrol else "/console/sign-in/code", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> HTMLResponse:
        context = {"heading": "Not for your role", "detail": "Your roles do not open this page or action."}
        return render(request, "console/error.html", context, console=exc.console, status=403)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> HTMLResponse:
        context = {"heading": "Form refused", "detail": "The form did not come from this session; nothing was done."}
        return render(request, "console/error.html", context, console=exc.console, status=403)

    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem) -> HTMLResponse:
        """A page whose reading the API refused (a loan that does not exist, a project outside the scope)."""
        status = exc.status if exc.status >= 400 else 500
        if face_of(request) == request.url.path.strip("/").split("/")[0]:
            # The borrower's or partner's pages: another person's loan is simply not there (404), in their words.
            _ = translator(anonymous_language(request)).gettext
            heading = _("Not found") if status == 404 else _("Something went wrong. Please try again.")
            detail = _("We could not find that.") if status == 404 else ""
            return render_for_person(
                request, "people/error.html", {"heading": heading, "detail": detail}, status=status
            )
        headings = {403: "Not for your role", 404: "Not found", 409: "Not now", 422: "Not valid"}
        context = {"heading": headings.get(exc.status, "Refused"), "detail": exc.detail}
        return render(request, "console/error.html", context, status=exc.status if exc.status >= 400 else 500)

    return app
