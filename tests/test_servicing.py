"""Loan servicing through the HTTP API and close of business, with the real PostgreSQL and Temporal and the fake
providers: accrual, reminders, repayments, extensions, corrections, close of business itself."""

from __future__ import annotations

from datetime import timedelta

import httpx

from domain.accounts import HouseAccount
from store import ledger
from store.repositories import servicing
from tests.conftest import Stack
from tests.helpers import admin_token, bearer, wait_for_outbox
from tests.origination_steps import TERMS
from tests.servicing_steps import (
    close_through,
    funded_loan,
    funded_loan_of,
    loan,
    open_date,
    pay,
    product_with_terms,
    scalar,
    settled_payment,
    trial_balance_is_whole,
    wait_until,
)
from tests.test_wallets import ledger_is_whole
from workers.schedules import COB_SCHEDULE_ID, ensure_cob_schedule


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
    again = await http.post(
        "/v1/staff/cob", json={"until": (start + timedelta(days=9)).isoformat()}, headers=bearer(admin)
    )
    assert again.status_code == 200, again.text
    assert await scalar(clean, "SELECT count(*) FROM journal_entries") == entries

    # Three days before the due date the borrower is reminded, and on the day itself.
    await close_through(http, admin, start + timedelta(days=29))
    messages = await wait_for_outbox(http, phone, count=6)
    purposes = [m["purpose"] for m in messages]
    assert "loan_due_soon" in purposes and "loan_due_today" in purposes
    on_due = await loan(http, token, loan_id)
    assert on_due["balances"] == {
        "principal": 50_000,
        "interest": 12_000,
        "penalty": 0,
        "fees": 2_500,
        "fines": 0,
        "total": 64_500,
    }
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


async def test_repaid_early_in_part_then_in_full_with_the_overpayment_kept_in_a_wallet(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    token, loan_id = await funded_loan(http, admin, "+447700920002")
    start = await open_date(http, admin)
    await close_through(http, admin, start + timedelta(days=9))
    part = await pay(http, token, loan_id, 20_000)
    # The waterfall: fees, then interest, then principal (which lowers the interest to come).
    assert part["allocation"] == {"fees": 2_500, "interest": 4_000, "principal": 13_500}
    assert part["value_date"] == (start + timedelta(days=10)).isoformat()
    assert (await loan(http, token, loan_id))["balances"]["principal"] == 36_500
    await close_through(http, admin, start + timedelta(days=19))
    now = await loan(http, token, loan_id)
    assert now["balances"] == {
        "principal": 36_500,
        "interest": 2_920,
        "penalty": 0,
        "fees": 0,
        "fines": 0,
        "total": 39_420,
    }
    full = await pay(http, token, loan_id, 40_420)
    assert full["allocation"] == {"interest": 2_920, "principal": 36_500, "overpayment": 1_000}
    assert (await loan(http, token, loan_id))["status"] == "repaid"
    wallets = (await http.get("/v1/wallets", headers=bearer(token))).json()
    assert [(w["type"], w["balance"]["amount"]) for w in wallets["data"]] == [("loan_refunds", 1_000)]
    await ledger_is_whole(clean)


UK_TERMS = {
    "principal_min": 10_000,
    "principal_max": 100_000,
    "principal_step": 1_000,
    "term_min_days": 7,
    "term_max_days": 60,
    "daily_rate": "0.005",
    "extension_days": [10],
    "extension_fee_percent": "5",
    "max_extensions": 2,
}


async def test_extended_twice_then_refused_a_third_time_under_the_uk_profile(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await product_with_terms(http, admin, "uk-hcstc", "GBP", UK_TERMS, profile="uk_fca_hcstc")
    token, loan_id = await funded_loan_of(http, product_id, "+447700920003")
    start = await open_date(http, admin)
    await close_through(http, admin, start + timedelta(days=4))  # five nights at 250
    quote = (await http.get(f"/v1/loans/{loan_id}/extension-quote", params={"days": 10}, headers=bearer(token))).json()
    assert quote == {
        "days": 10,
        "fee": 2_500,
        "pay_first": 1_250,
        "total": 3_750,
        "new_due_date": (start + timedelta(days=40)).isoformat(),
        "currency": "GBP",
    }
    first = await _extend(http, token, loan_id, 10)
    assert first["amount"] == 3_750 and first["status"] == "succeeded" and first["failure_code"] is None
    after = await loan(http, token, loan_id)
    assert after["due_date"] == (start + timedelta(days=40)).isoformat() and after["extensions"] == 1
    assert after["balances"] == {
        "principal": 50_000,
        "interest": 0,
        "penalty": 0,
        "fees": 0,
        "fines": 0,
        "total": 50_000,
    }
    second = await _extend(http, token, loan_id, 10)
    assert second["amount"] == 2_500
    assert (await loan(http, token, loan_id))["due_date"] == (start + timedelta(days=50)).isoformat()

    charges = len([c for c in clean.payments.calls if c[0] == "charge"])
    third = await http.get(f"/v1/loans/{loan_id}/extension-quote", params={"days": 10}, headers=bearer(token))
    assert third.status_code == 422 and "2 extensions" in third.json()["detail"]
    refused = await http.post(f"/v1/loans/{loan_id}/extensions", json={"days": 10}, headers=bearer(token))
    assert refused.status_code == 422
    assert len([c for c in clean.payments.calls if c[0] == "charge"]) == charges  # no card was charged
    odd = await http.get(f"/v1/loans/{loan_id}/extension-quote", params={"days": 11}, headers=bearer(token))
    assert odd.status_code == 422
    await ledger_is_whole(clean)


async def _extend(http: httpx.AsyncClient, token: str, loan_id: str, days: int) -> dict[str, object]:
    response = await http.post(f"/v1/loans/{loan_id}/extensions", json={"days": days}, headers=bearer(token))
    assert response.status_code == 201, response.text
    return await settled_payment(http, token, loan_id, response.json()["id"])


async def test_a_backdated_payment_takes_back_the_penalties_it_prevented(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    terms = TERMS | {"penalty_daily_rate": "0.002", "fines": [{"days_past_due": 5, "amount": 1_000}]}
    product_id = await product_with_terms(http, admin, "penalty-gb", "GBP", terms)
    token, loan_id = await funded_loan_of(http, product_id, "+447700920004")
    start = await open_date(http, admin)
    await close_through(http, admin, start + timedelta(days=39))  # ten days past due by morning
    overdue = await loan(http, token, loan_id)
    assert overdue["status"] == "overdue"
    assert overdue["balances"]["penalty"] == 10 * 100
    assert (overdue["balances"]["fees"], overdue["balances"]["fines"]) == (2_500, 1_000)  # origination fee, fine

    url = f"/v1/staff/loans/{loan_id}/corrections"
    bad = await http.post(
        url, json={"kind": "payment", "value_date": start.isoformat(), "reason": "bank"}, headers=bearer(admin)
    )
    assert bad.status_code == 422  # no amount
    body = {
        "kind": "payment",
        "value_date": (start + timedelta(days=30)).isoformat(),
        "amount": 64_500,
        "reason": "bank transfer received on the due date, matched late",
    }
    headers = bearer(admin) | {"Idempotency-Key": "corr-1"}
    corrected = await http.post(url, json=body, headers=headers)
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["status"] == "repaid"
    assert (await http.post(url, json=body, headers=headers)).json() == corrected.json()  # replayed, not re-posted
    after = await loan(http, token, loan_id)
    assert after["status"] == "repaid" and after["balances"]["total"] == 0
    correction = after["history"][-1]
    assert correction["kind"] == "loan_payment"
    assert correction["owed"]["penalty"] == -1_000 and correction["owed"]["fines"] == -1_000
    async with clean.sessions() as s:
        assert await ledger.house_balance(s, HouseAccount.PENALTY_INCOME, "GBP") == 0
        assert await ledger.house_balance(s, HouseAccount.FINE_INCOME, "GBP") == 0
        assert await ledger.house_balance(s, HouseAccount.INTEREST_INCOME, "GBP") == 12_000
    audit = (await http.get("/v1/staff/audit", params={"action": "loan.payment"}, headers=bearer(admin))).json()
    lines = [a for a in audit["data"] if a["action"] == "loan.payment"]
    assert len(lines) == 1 and lines[0]["details"]["reason"].startswith("bank transfer")
    await ledger_is_whole(clean)


async def test_close_of_business_across_a_forty_day_gap_resumes_a_run_killed_halfway(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await product_with_terms(http, admin, "gap-gb", "GBP", TERMS)
    token_a, loan_a = await funded_loan_of(http, product_id, "+447700920005")
    token_b, loan_b = await funded_loan_of(http, product_id, "+447700920006")
    start = await open_date(http, admin)
    # A close of business that died after its first batch: one loan's night is posted, the other's is not.
    async with clean.sessions.begin() as session:
        assert await servicing.begin_cob(session, start, "cob-killed") == "new"
    async with clean.sessions.begin() as session:
        batch = await servicing.accrue_batch(await ledger.driver_of(session), start, None, 1)
        assert batch.loans == 1
    body = await close_through(http, admin, start + timedelta(days=40))
    assert body["runs"][0]["business_date"] == (start + timedelta(days=40)).isoformat()
    assert len(body["runs"]) == 30  # the last thirty, newest first
    assert await scalar(clean, "SELECT count(*) FROM cob_runs WHERE status = 'closed'") == 41
    # Each date closed in three ranges side by side; their tallies add up to the two loans.
    assert await scalar(clean, "SELECT min(loans_accrued) FROM cob_runs WHERE business_date > :d", d=start) == 2
    for token, loan_id in ((token_a, loan_a), (token_b, loan_b)):
        found = await loan(http, token, loan_id)
        assert found["status"] == "overdue"
        assert found["balances"] == {
            "principal": 50_000,
            "interest": 41 * 400,
            "penalty": 0,
            "fees": 2_500,
            "fines": 0,
            "total": 50_000 + 41 * 400 + 2_500,
        }
    assert await scalar(clean, "SELECT count(*) FROM journal_entries WHERE kind = 'loan_accrual'") == 2 * 41
    daily = (
        await http.get(
            "/v1/staff/reports/daily", params={"date": (start + timedelta(days=35)).isoformat()}, headers=bearer(admin)
        )
    ).json()
    assert daily["recorded_by_close_of_business"] is True
    assert daily["currencies"]["GBP"]["accrued_interest"] == 800
    first_day = (
        await http.get("/v1/staff/reports/daily", params={"date": start.isoformat()}, headers=bearer(admin))
    ).json()
    assert first_day["currencies"]["GBP"]["issued_count"] == 2
    assert first_day["currencies"]["GBP"]["issued_principal"] == 100_000
    portfolio = (await http.get("/v1/staff/reports/portfolio", headers=bearer(admin))).json()
    [line] = portfolio["products"]
    assert line["loans"] == 2 and line["buckets"]["1-30"]["loans"] == 2 and line["par30"] == "0.0000"
    tb = await trial_balance_is_whole(http, admin, start + timedelta(days=40))
    loan_lines = sum(x["balance"] for x in tb["lines"] if x["account"].startswith("loan:"))
    assert -loan_lines == 2 * (50_000 + 41 * 400 + 2_500)
    csv = await http.get("/v1/staff/reports/trial-balance", headers=bearer(admin) | {"Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.startswith("currency,account,kind,balance")
    customers = (await http.get("/v1/staff/reports/customers", headers=bearer(admin))).json()
    assert customers["borrowers"] == 2 and customers["repeat_rate"] == "0.0000"
    refused = await http.post("/v1/staff/cob", json={"until": "not a date"}, headers=bearer(admin))
    assert refused.status_code == 422
    await ledger_is_whole(clean)


async def test_the_daily_schedule_follows_configuration(clean: Stack) -> None:
    await ensure_cob_schedule(clean.temporal, clean.settings)
    await ensure_cob_schedule(clean.temporal, clean.settings)  # a second start updates, not fails
    description = await clean.temporal.get_schedule_handle(COB_SCHEDULE_ID).describe()
    spec = description.schedule.spec
    assert spec.time_zone_name == "Asia/Ho_Chi_Minh"
    [calendar] = spec.calendars
    assert calendar.hour[0].start == 0 and calendar.minute[0].start == 30
    await clean.temporal.get_schedule_handle(COB_SCHEDULE_ID).delete()


async def test_a_waiver_and_a_rate_changed_from_a_past_date_post_only_the_differences(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    token, loan_id = await funded_loan(http, admin, "+447700920007")
    start = await open_date(http, admin)
    await close_through(http, admin, start + timedelta(days=9))  # ten nights at 400
    url = f"/v1/staff/loans/{loan_id}/corrections"
    waiver = {
        "kind": "waiver",
        "value_date": (start + timedelta(days=10)).isoformat(),
        "amount": 1_000,
        "component": "interest",
        "reason": "goodwill after a complaint",
    }
    assert (await http.post(url, json=waiver, headers=bearer(admin))).status_code == 201
    assert (await loan(http, token, loan_id))["balances"]["interest"] == 3_000
    rate = {
        "kind": "rate_change",
        "value_date": (start + timedelta(days=5)).isoformat(),
        "daily_rate": "0.004",
        "reason": "rate lowered from day five",
    }
    changed = await http.post(url, json=rate, headers=bearer(admin))
    assert changed.status_code == 201, changed.text
    # Five nights at 400 and five at 200, less the waiver; the correction's entry holds only the difference.
    after = await loan(http, token, loan_id)
    assert after["balances"]["interest"] == 5 * 400 + 5 * 200 - 1_000
    assert after["history"][-1]["owed"] == {"interest": -1_000}
    await close_through(http, admin, start + timedelta(days=11))
    assert (await loan(http, token, loan_id))["balances"]["interest"] == 5 * 400 + 7 * 200 - 1_000
    future = rate | {"value_date": (start + timedelta(days=30)).isoformat()}
    assert (await http.post(url, json=future, headers=bearer(admin))).status_code == 422
    await ledger_is_whole(clean)


async def test_an_accountant_reads_one_loan_and_its_postings_in_the_ledger_explorer(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    terms = TERMS | {"penalty_daily_rate": "0.002", "fines": [{"days_past_due": 5, "amount": 1_000}]}
    product_id = await product_with_terms(http, admin, "explorer-gb", "GBP", terms)
    token, loan_id = await funded_loan_of(http, product_id, "+447700920031")
    start = await open_date(http, admin)
    await close_through(http, admin, start + timedelta(days=36))
    await pay(http, token, loan_id, 20_000)

    view = await http.get(f"/v1/staff/loans/{loan_id}", headers=bearer(admin))
    assert view.status_code == 200, view.text
    body = view.json()
    assert body["ledger_balances"] == body["engine"]["outstanding"]  # the ledger holds what the engine says
    assert body["engine"]["accrued"]["fines"] == 1_000 and body["engine"]["paid"]["fines"] == 1_000  # fines first
    assert body["engine"]["days_past_due"] > 0
    assert [i["due_date"] for i in body["schedule"]] == [body["due_date"]]
    assert [p["status"] for p in body["payments"]] == ["succeeded"]
    kinds = [e["kind"] for e in body["entries"]]
    assert kinds[0] == "loan_disbursement" and "loan_repayment" in kinds
    for entry in body["entries"]:
        assert sum(p["amount"] for p in entry["postings"]) == 0

    first = body["entries"][0]
    one = await http.get(f"/v1/staff/ledger/entries/{first['id']}", headers=bearer(admin))
    assert one.status_code == 200 and one.json() == first
    filtered = await http.get(
        "/v1/staff/ledger/entries", params={"loan_id": loan_id, "limit": 2}, headers=bearer(admin)
    )
    assert [e["id"] for e in filtered.json()["data"]] == [e["id"] for e in body["entries"][:2]]
    assert filtered.json()["has_more"] == (len(body["entries"]) > 2)
    after = await http.get(
        "/v1/staff/ledger/entries", params={"loan_id": loan_id, "starting_after": first["id"]}, headers=bearer(admin)
    )
    assert [e["id"] for e in after.json()["data"]] == [e["id"] for e in body["entries"][1:]]
    fines_account = next(
        p["account_id"] for e in body["entries"] for p in e["postings"] if p["account"] == f"loan:{loan_id}:fines"
    )
    statement = (await http.get(f"/v1/staff/ledger/accounts/{fines_account}/statement", headers=bearer(admin))).json()
    assert statement["data"][-1]["balance_after"] == -body["ledger_balances"]["fines"]
    assert (await http.get("/v1/staff/ledger/entries/999999999", headers=bearer(admin))).status_code == 404
    assert (await http.get(f"/v1/staff/loans/{loan_id}", headers=bearer(token))).status_code in (401, 403)
