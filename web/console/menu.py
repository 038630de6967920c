"""The console's pages and the roles that reach each: the menu shows a member only what their roles open, and
each page checks the same list (the API behind it checks again, docs/access.md). Admin reaches everything."""

from __future__ import annotations

from dataclasses import dataclass

from web.console.api_client import Staff

EVERYONE: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    path: str
    roles: tuple[str, ...]


PAGES = (
    Page("dashboard", "Dashboard", "/console", EVERYONE),
    Page("applications", "Applications", "/console/applications", ("underwriter", "support")),
    Page("customers", "Customers", "/console/customers", ("underwriter", "collector", "support")),
    Page("loans", "Loans", "/console/loans", ("underwriter", "collector", "accountant", "support")),
    Page("collections", "Collections", "/console/collections", ("collector",)),
    Page("cob", "Close of business", "/console/cob", ("underwriter", "collector", "accountant")),
    Page("products", "Products", "/console/products", ("underwriter", "accountant", "support")),
    Page("money", "Wallets and money", "/console/money", ("accountant", "support")),
    Page("affiliate", "Affiliate network", "/console/affiliate", ("accountant", "support")),
    Page("reports", "Reports", "/console/reports", ("accountant",)),
    Page("ledger", "Ledger", "/console/ledger", ("accountant", "support")),
    Page("staff", "Staff", "/console/staff", ()),  # admin only: see `roles_for`
    Page("audit", "Audit log", "/console/audit", ("accountant", "support")),
)
ADMIN_ONLY = frozenset({"staff"})


def roles_for(key: str) -> tuple[str, ...]:
    page = next(p for p in PAGES if p.key == key)
    return ("admin",) if key in ADMIN_ONLY else page.roles


def visible(staff: Staff) -> list[Page]:
    return [page for page in PAGES if staff.may(*roles_for(page.key))]
