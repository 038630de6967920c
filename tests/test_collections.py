"""Overdue loans through the collections ladder: messages, automatic debits within the product's cap and the
decline's meaning, a collector's queue, promises to pay, write-off and later recovery."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from domain.accounts import HouseAccount
from store import ledger
from tests.conftest import Stack
from tests.helpers import admin_token, bearer, staff_token
from tests.origination_steps import TERMS
from tests.servicing_steps import (
    case,
    close_through,
    funded_loan_of,
    loan,
    open_date,
    pay,
    product_with_terms,
    scalar,
    set_ladder,
    steps_done,
    trial_balance_is_whole,
    wait_until,
)
from tests.test_wallets import ledger_is_whole


async def test_overdue_through_the_whole_ladder_to_write_off_and_a_later_recovery(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    await http.post(
        "/v1/staff/members",
        json={"email": "coll@lendflow.dev", "password": "collector-pass-1", "roles": ["collector"]},
        headers=bearer(admin),
    )
    collector = await staff_token(http, "coll@lendflow.dev", "collector-pass-1")
    product_id = await product_with_terms(http, admin, "ladder-gb", "GBP", TERMS)
    await set_ladder(
        http,
        admin,
        product_id,
        [
            {"day": 1, "action": "sms"},
            {"day": 3, "action": "auto_debit"},
            {"day": 5, "action": "email"},
            {"day": 7, "action": "assign"},
            {"day": 10, "action": "escalate"},
            {"day": 12, "action": "hand_over", "agency": "acme-collect"},
            {"day": 15, "action": "write_off"},
        ],
    )
    phone = "+447700930001"
    token, loan_id = await funded_loan_of(http, product_id, phone)
    start = await open_date(http, admin)
    clean.payments.behaviour.declines_to_inject = ["expired_card"]  # the card is gone: no second debit

    await close_through(http, admin, start + timedelta(days=37))  # 8 days past due by morning
    assert (await loan(http, token, loan_id))["status"] == "overdue"
    await steps_done(clean, loan_id, "1:sms", "3:auto_debit", "5:email", "7:assign")
    found = await case(clean, loan_id)
    assert found is not None and found["failed_debits"] == 1 and found["last_decline"] == "expired_card"
    queue = (await http.get("/v1/staff/collections", headers=bearer(collector))).json()
    assert [line["loan_id"] for line in queue["data"]] == [loan_id]
    line = queue["data"][0]
    assert line["days_past_due"] == 8 and line["owed"] == 50_000 + 2_500 + 38 * 400
    mine = (await http.get("/v1/staff/collections", params={"mine": "true"}, headers=bearer(collector))).json()
    assert [x["loan_id"] for x in mine["data"]] == [loan_id]  # the only collector got it
    contact = await http.post(
        f"/v1/staff/collections/{loan_id}/contacts",
        json={"channel": "call", "outcome": "no_answer"},
        headers=bearer(collector),
    )
    assert contact.status_code == 201, contact.text

    await close_through(http, admin, start + timedelta(days=44))  # 15 days past due
    await steps_done(clean, loan_id, "10:escalate", "12:hand_over", "15:write_off")
    written_off = await wait_until(lambda: _status(http, token, loan_id, "written_off"), "written off")
    assert written_off["balances"]["total"] == 0
    charges = await scalar(clean, "SELECT count(*) FROM loan_payments WHERE purpose = 'auto_debit'")
    assert charges == 1  # an expired card is not charged again
    owed_at_write_off = 50_000 + 2_500 + 45 * 400
    async with clean.sessions() as s:
        assert await ledger.house_balance(s, HouseAccount.LOAN_LOSS, "GBP") == -owed_at_write_off
    found = await case(clean, loan_id)
    assert found is not None and found["status"] == "closed" and found["handed_over_to"] == "acme-collect"
    assert (await http.get("/v1/staff/collections", headers=bearer(collector))).json()["data"] == []
    loan_workflow = clean.temporal.get_workflow_handle(f"loan-{loan_id}")
    assert await wait_until(lambda: _ended(loan_workflow), "the loan workflow ends with the write-off")

    recovered = await pay(http, token, loan_id, 5_000)
    assert recovered["status"] == "succeeded"
    async with clean.sessions() as s:
        assert await ledger.house_balance(s, HouseAccount.LOAN_LOSS, "GBP") == -owed_at_write_off + 5_000
    assert (await loan(http, token, loan_id))["status"] == "written_off"
    await close_through(http, admin, start + timedelta(days=46))
    await trial_balance_is_whole(http, admin, start + timedelta(days=46))
    await ledger_is_whole(clean)


async def _ended(handle: object) -> bool:
    description = await handle.describe()  # type: ignore[attr-defined]
    return str(description.status) != "WorkflowExecutionStatus.RUNNING"


async def _status(http: httpx.AsyncClient, token: str, loan_id: str, status: str) -> dict[str, object] | None:
    found = await loan(http, token, loan_id)
    return found if found["status"] == status else None


async def test_a_broken_promise_pauses_the_ladder_then_resumes_it(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await product_with_terms(http, admin, "promise-gb", "GBP", TERMS)
    await set_ladder(
        http,
        admin,
        product_id,
        [{"day": 1, "action": "sms"}, {"day": 3, "action": "email"}, {"day": 6, "action": "assign"}],
    )
    token, loan_id = await funded_loan_of(http, product_id, "+447700930002")
    start = await open_date(http, admin)
    await close_through(http, admin, start + timedelta(days=31))  # 2 days past due
    await steps_done(clean, loan_id, "1:sms")
    promised = start + timedelta(days=34)
    made = await http.post(
        f"/v1/staff/collections/{loan_id}/promise",
        json={"date": promised.isoformat(), "amount": 10_000},
        headers=bearer(admin),
    )
    assert made.status_code == 201, made.text
    past = await http.post(
        f"/v1/staff/collections/{loan_id}/promise",
        json={"date": start.isoformat(), "amount": 10_000},
        headers=bearer(admin),
    )
    assert past.status_code == 422

    await close_through(http, admin, start + timedelta(days=33))  # 4 days past due, promise still open
    await asyncio.sleep(1.5)
    found = await case(clean, loan_id)
    assert found is not None and list(found["steps_done"]) == ["1:sms"]  # paused: day 3 did not run

    await close_through(http, admin, start + timedelta(days=35))  # the promised day passed with nothing paid
    await steps_done(clean, loan_id, "3:email")
    status = await scalar(clean, "SELECT status FROM payment_promises WHERE loan_id = :id", id=loan_id)
    assert status == "broken"
    await close_through(http, admin, start + timedelta(days=36))
    await steps_done(clean, loan_id, "6:assign")
    assert (await loan(http, token, loan_id))["status"] == "overdue"


async def test_a_failed_then_successful_automatic_debit_repays_the_loan(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await product_with_terms(http, admin, "debit-gb", "GBP", TERMS)
    await set_ladder(http, admin, product_id, [{"day": 2, "action": "auto_debit"}, {"day": 4, "action": "auto_debit"}])
    token, loan_id = await funded_loan_of(http, product_id, "+447700930003")
    start = await open_date(http, admin)
    clean.payments.behaviour.declines_to_inject = ["insufficient_funds"]  # short of money today, not later

    await close_through(http, admin, start + timedelta(days=31))
    await steps_done(clean, loan_id, "2:auto_debit")
    found = await case(clean, loan_id)
    assert found is not None and found["failed_debits"] == 1 and found["last_decline"] == "insufficient_funds"
    assert (await loan(http, token, loan_id))["status"] == "overdue"

    await close_through(http, admin, start + timedelta(days=33))
    await steps_done(clean, loan_id, "4:auto_debit")
    repaid = await wait_until(lambda: _status(http, token, loan_id, "repaid"), "repaid by the second debit")
    assert repaid["balances"]["total"] == 0
    payments = (await http.get(f"/v1/loans/{loan_id}/payments", headers=bearer(token))).json()["data"]
    assert [(p["purpose"], p["status"]) for p in payments] == [("auto_debit", "failed"), ("auto_debit", "succeeded")]
    assert payments[1]["amount"] == 50_000 + 2_500 + 34 * 400

    async def case_closed() -> bool:  # the collections workflow hears of the repayment just after the loan does
        found = await case(clean, loan_id)
        return found is not None and found["status"] == "closed"

    await wait_until(case_closed, "the case closed once the loan was repaid")
    await ledger_is_whole(clean)
