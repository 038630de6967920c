"""The console's pages, one module per area of the back office; each reads and acts through the API
(web/console/api_client.py) and renders a template under web/templates/console/."""

from __future__ import annotations

from fastapi import APIRouter

from web.console.pages import (
    account,
    affiliate,
    applications,
    audit,
    cob,
    collections,
    customers,
    dashboard,
    ledger,
    loans,
    money,
    products,
    reports,
    staff,
)

router = APIRouter(include_in_schema=False)
for module in (
    dashboard,
    account,
    applications,
    customers,
    loans,
    collections,
    cob,
    products,
    money,
    affiliate,
    reports,
    ledger,
    staff,
    audit,
):
    router.include_router(module.router, prefix="/console")
