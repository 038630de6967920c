"""The borrower's personal account (/account): borrow, follow the application, sign, link a card, repay and
extend, wallets and messages. Every page reads and acts through the API as the borrower (web/platform_api.py)."""

from __future__ import annotations

from fastapi import APIRouter

from web.account import application, apply, home, loans, messages, wallets

router = APIRouter(include_in_schema=False)
for module in (home, apply, application, loans, wallets, messages):
    router.include_router(module.router, prefix="/account")
