"""Customers: find one by id, phone or full name; their file with applications, checks, loans, wallets, messages,
contacts and promises (reading it is recorded in the audit log by the API)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from web.console.api_client import ApiProblem
from web.console.pages.common import Signed, api, page, problem_status

router = APIRouter()
ROLES = ("underwriter", "collector", "support")


@router.get("/customers", response_class=HTMLResponse)
async def search(console: Signed, q: str = "") -> HTMLResponse:
    console.require(*ROLES)
    found, problem = None, None
    if q.strip():
        try:
            async with api(console) as client:
                found = (await client.get("/v1/staff/customers", q=q.strip()[:200]))["data"]
        except ApiProblem as refused:
            problem = refused
    status = problem_status(problem) if problem else 200
    return page(console, "customers.html", "customers", http_status=status, q=q, found=found, problem=problem)


@router.get("/customers/{user_id}", response_class=HTMLResponse)
async def customer(console: Signed, user_id: uuid.UUID) -> HTMLResponse:
    console.require(*ROLES)
    async with api(console) as client:
        found = await client.get(f"/v1/staff/customers/{user_id}")
    currency_of = {loan["id"]: loan["currency"] for loan in found["loans"]}
    for promise in found["promises"]:
        promise["currency"] = currency_of.get(promise["loan_id"], "")
    return page(console, "customer.html", "customers", customer=found)
