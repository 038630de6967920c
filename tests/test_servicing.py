"""Loan servicing through the HTTP API and close of business, with the real PostgreSQL and Temporal and the fake
providers: accrual, reminders, repayments, extensions, corrections, close of business itself."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.conftest import Stack
from tests.helpers import admin_token, bearer, wait_for_outbox
from tests.servicing_steps import (
    close_through,
    funded_loan,
    loan,
    open_date,
    pay,
    scalar,
    trial_balance_is_whole,
    wait_until,
)
from tests.test_wallets import ledger_is_whole


async def test_a_loan_repaid_on_time(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    phone = "+447700920001"
    token, loan_id = await funded_loan(http, admin, phone)
    start = await open_date(http, admin)
    first = await loan(http, token, loan_id)
    due = first["due_date"]
    assert due == (start + timedelta(days=30)).isoformat()

    # Ten nights: 0.8% a day of 50,000 is 400 a night.
    await close_through(http, admin, start + timedelta(days=9))
    assert (await loan(http, token, loan_id))["balances"]["interest"] == 4_000
    entries = await scalar(clean, "SELECT count(*) FROM journal_entries")
    # Closing the same dates again changes nothing.
    again = await http.post("/v1/staff/cob", json={"until": (start + timedelta(days=9)).isoformat()},
                            headers=bearer(admin))  # fmt: skip
    assert again.status_code == 200, again.text
    assert await scalar(clean, "SELECT count(*) FROM journal_entries") == entries

    # Three days before the due date the borrower is reminded, and on the day itself.
    await close_through(http, admin, start + timedelta(days=29))
    messages = await wait_for_outbox(http, phone, count=6)
    purposes = [m["purpose"] for m in messages]
    assert "loan_due_soon" in purposes and "loan_due_today" in purposes
    on_due = await loan(http, token, loan_id)
    assert on_due["balances"] == {"principal": 50_000, "interest": 12_000, "penalty": 0, "fees": 2_500,
                                  "total": 64_500}  # fmt: skip
    assert on_due["status"] == "active"

    paid = await pay(http, token, loan_id, 64_500, key="repay-all")
    assert paid["status"] == "succeeded"
    assert paid["allocation"] == {"fees": 2_500, "interest": 12_000, "principal": 50_000}
    done = await loan(http, token, loan_id)
    assert done["status"] == "repaid" and done["balances"]["total"] == 0
    handle = clean.temporal.get_workflow_handle(f"loan-{loan_id}")
    assert await wait_until(lambda: _closed(handle), "the loan workflow ends")
    # Later closes of business do not touch a repaid loan.
    await close_through(http, admin, start + timedelta(days=35))
    assert (await loan(http, token, loan_id))["balances"]["total"] == 0
    await trial_balance_is_whole(http, admin, start + timedelta(days=35))
    await ledger_is_whole(clean)


async def _closed(handle: object) -> bool:
    description = await handle.describe()  # type: ignore[attr-defined]
    return str(description.status) != "WorkflowExecutionStatus.RUNNING"
