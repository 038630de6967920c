"""The application lendflow serves: the API (api/app.py) and, beside it, the staff console under `/console` with
its own static files. The console's refusals are pages (a redirect to sign in, a 403 page), never problem+json."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.app import create_app as create_api
from api.resources import AppResources
from config import Settings
from web.console.api_client import ApiProblem
from web.console.pages import router as console_pages
from web.console.session import CsrfRefused, Forbidden, SecondFactorNeeded, SignInNeeded
from web.console.sign_in import router as console_sign_in
from web.console.templating import render

STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings, resources: AppResources | None = None) -> FastAPI:
    app = create_api(settings, resources)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.include_router(console_sign_in)
    app.include_router(console_pages)

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
        headings = {403: "Not for your role", 404: "Not found", 409: "Not now", 422: "Not valid"}
        context = {"heading": headings.get(exc.status, "Refused"), "detail": exc.detail}
        return render(request, "console/error.html", context, status=exc.status if exc.status >= 400 else 500)

    return app
