"""The FastAPI application: routers per audience, problem+json errors, request ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import codec_server, health, metrics
from api import me as me_routes
from api.applications import borrower as borrower_applications
from api.applications import payouts as staff_payouts
from api.applications import staff as staff_applications
from api.auth import routes as auth_routes
from api.body_guard import BodyGuard
from api.dev import card_page, outbox
from api.ingest import routes as ingest_routes
from api.ingest import uploads as ingest_uploads
from api.loans import payments as loan_payments
from api.loans import promises as loan_promises
from api.loans import routes as borrower_loans
from api.metrics import RequestMetrics
from api.openapi_doc import describe_problems
from api.partners import routes as partner_routes
from api.problems import install_problem_handlers
from api.products import borrower as product_offers
from api.products import staff as staff_products
from api.request_context import RequestIdMiddleware
from api.resources import AppResources
from api.staff import affiliate as staff_affiliate
from api.staff import audit as staff_audit
from api.staff import auth as staff_auth
from api.staff import collections as staff_collections
from api.staff import commissions as staff_commissions
from api.staff import customers as staff_customers
from api.staff import dashboard as staff_dashboard
from api.staff import ledger as staff_ledger
from api.staff import loan_view as staff_loan_view
from api.staff import members as staff_members
from api.staff import reports as staff_reports
from api.staff import servicing as staff_servicing
from api.staff import underwriting as staff_underwriting
from api.staff import wallets as staff_wallets
from api.wallets import payments as wallet_payments
from api.wallets import routes as wallet_routes
from api.webhooks import bureau as bureau_webhooks
from api.webhooks import stripe as stripe_webhooks
from api.webhooks import twilio as twilio_webhooks
from config import Settings
from store.db import make_engine, make_session_factory
from store.pii import PiiCipher
from workflows.client import connect_configured


def create_app(settings: Settings, resources: AppResources | None = None) -> FastAPI:
    """`resources` given (the tests): the app uses them and leaves them open. Not given: the lifespan builds them
    from settings and closes them on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if resources is not None:
            app.state.resources = resources
            yield
            return
        built = build_resources(settings)
        app.state.resources = built
        try:
            yield
        finally:
            await built.close_listeners()
            await built.engine.dispose()

    app = FastAPI(
        title="lendflow",
        version="0.1.0",
        description="Loans, wallets and affiliate revenue share. Errors are RFC 9457 problem+json.",
        lifespan=lifespan,
    )
    if resources is not None:
        app.state.resources = resources
    generated = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_problems(generated())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(BodyGuard, max_body_bytes=settings.max_body_bytes)  # inside: its refusals carry request ids
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(RequestMetrics)  # outermost: every answer counts, refusals included
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(codec_server.router)
    app.include_router(auth_routes.router)
    app.include_router(staff_auth.router)
    app.include_router(staff_members.router)
    app.include_router(staff_audit.router)
    app.include_router(staff_dashboard.router)
    app.include_router(staff_wallets.router)
    app.include_router(wallet_routes.router)
    app.include_router(wallet_payments.router)
    app.include_router(stripe_webhooks.router)
    app.include_router(staff_products.router)
    app.include_router(product_offers.router)
    app.include_router(twilio_webhooks.router)
    app.include_router(bureau_webhooks.router)
    app.include_router(borrower_applications.router)
    app.include_router(staff_applications.router)
    app.include_router(staff_payouts.router)
    app.include_router(staff_underwriting.router)
    app.include_router(staff_customers.router)
    app.include_router(borrower_loans.router)
    app.include_router(loan_promises.router)
    app.include_router(me_routes.router)
    app.include_router(loan_payments.router)
    app.include_router(staff_servicing.router)
    app.include_router(staff_collections.router)
    app.include_router(staff_reports.router)
    app.include_router(staff_ledger.router)
    app.include_router(staff_loan_view.router)
    app.include_router(staff_affiliate.router)
    app.include_router(partner_routes.router)
    app.include_router(ingest_routes.router)
    app.include_router(ingest_uploads.router)
    app.include_router(staff_commissions.router)
    if settings.is_dev:
        app.include_router(outbox.router)
    if settings.payment_provider == "fake":
        app.include_router(card_page.router)
    return app


def build_resources(settings: Settings) -> AppResources:
    if settings.database_url is None:
        raise RuntimeError("DATABASE_URL is not set (`lendflow dev` sets it for the embedded server)")
    engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    return AppResources(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        cipher=PiiCipher(settings.pii_key),
        temporal_connector=lambda: connect_configured(settings),
    )
