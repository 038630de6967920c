"""Operators find a customer's processes in Temporal by search attributes: the application by its customer, its
product and the status it stands at (kept up to date by the workflow), the loan it books by its loan id and the
same customer, and a payment by its loan. The queries are the ones an operator types into the Temporal UI or
`temporal workflow list --query`."""

from __future__ import annotations

import asyncio

import httpx
import jwt

from tests.conftest import Stack
from tests.helpers import admin_token, bearer
from tests.origination_steps import offered, wait_status
from tests.servicing_steps import funded_loan, pay


async def found(stack: Stack, query: str, expected: int = 1, timeout_s: float = 20) -> list[str]:
    """Workflow ids the query finds, once it finds `expected` of them (visibility follows within a moment)."""
    ids: list[str] = []
    for _ in range(int(timeout_s / 0.2)):
        ids = [w.id async for w in stack.temporal.list_workflows(query)]
        if len(ids) >= expected:
            return ids
        await asyncio.sleep(0.2)
    raise AssertionError(f"{query!r} found {ids}")


async def test_a_customers_processes_are_found_by_their_search_attributes(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    token, app_id, _ = await offered(http, admin, "+447700967001")
    user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    application = f"loan-application-{app_id}"
    assert application in await found(clean, f'LendflowCustomerId="{user_id}"')
    assert application in await found(clean, f'LendflowApplicationStatus="offered" AND LendflowCustomerId="{user_id}"')
    accepted = await http.post(f"/v1/applications/{app_id}/accept", headers=bearer(token))
    assert accepted.status_code == 200, accepted.text
    await wait_status(http, token, app_id, "awaiting_signature")
    assert application in await found(
        clean, f'LendflowApplicationStatus="awaiting_signature" AND WorkflowId="{application}"'
    )
    cancelled = await http.post(
        f"/v1/applications/{app_id}/cancel", json={"reason": "changed my mind"}, headers=bearer(token)
    )
    assert cancelled.status_code == 200
    assert application in await found(clean, f'LendflowApplicationStatus="cancelled" AND WorkflowId="{application}"')


async def test_a_funded_loan_and_its_payment_are_found_by_loan_and_customer(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    token, loan_id = await funded_loan(http, admin, "+447700967002")
    user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    assert f"loan-{loan_id}" in await found(clean, f'LendflowLoanId="{loan_id}" AND LendflowCustomerId="{user_id}"')
    await pay(http, token, loan_id, 1_000)
    loan_processes = await found(clean, f'LendflowLoanId="{loan_id}"', expected=2)
    assert any(w.startswith("loan-payment-") for w in loan_processes), loan_processes
    assert len(await found(clean, f'LendflowCustomerId="{user_id}"', expected=2)) >= 2
