"""Loan origination end to end through the HTTP API: checks, decision, offer, SMS signing, card, disbursement,
with the fake bureau, scoring, payment and CPA providers calling back as the real ones do."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from sqlalchemy import text
from temporalio.worker import Replayer

from config import Settings
from domain.accounts import HouseAccount
from providers.credit.signature import sign_body
from store import ledger
from tests.conftest import Stack
from tests.helpers import admin_token, bearer, borrower_token, staff_token, wait_for_outbox
from tests.origination_steps import (
    application_body,
    apply,
    lending_product,
    offered,
    signed,
    signing_code,
    wait_status,
)
from tests.test_wallets import ledger_is_whole
from workers.runner import WORKFLOWS
from workflows.client import data_converter


async def loan_balances(stack: Stack, loan_id: str) -> dict[str, int]:
    async with stack.sessions() as s:
        accounts = await s.scalar(text("SELECT accounts FROM loans WHERE id = :id"), {"id": uuid.UUID(loan_id)})
        assert accounts is not None
        found = await ledger.balances(s, list(accounts["receivable"].values()))
    return {name: found[account].balance for name, account in accounts["receivable"].items()}


async def count(stack: Stack, sql: str, **params: Any) -> int:
    async with stack.sessions() as s:
        return int(await s.scalar(text(sql), params) or 0)


async def test_an_application_becomes_a_funded_loan_with_the_ledger_posted(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await lending_product(http, admin)
    phone = "+447700910001"
    token = await borrower_token(http, phone)
    body = application_body(product_id, phone, source={"network": "admitad", "click_id": "clk 42/€"})
    created = await apply(http, token, body, key="apply-1")
    assert created["status"] == "received"
    again = await apply(http, token, body, key="apply-1")  # a double-click starts nothing new
    assert again["id"] == created["id"]
    app_id = created["id"]

    offer = await wait_status(http, token, app_id, "offered")
    assert offer["offer"]["principal"] == 50_000 and offer["offer"]["fees"] == 2_500
    assert offer["offer"]["total_due"] == 50_000 + 12_000 + 2_500  # 0.8% a day for 30 days, 5% fee

    accepted = await http.post(f"/v1/applications/{app_id}/accept", headers=bearer(token))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "awaiting_signature"
    code = await signing_code(http, phone)
    response = await http.post(f"/v1/applications/{app_id}/sign", json={"code": code}, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["application"]["status"] == "awaiting_card"

    card = await http.post(
        f"/v1/applications/{app_id}/card", json={"payment_method": "pm_card_visa"}, headers=bearer(token)
    )
    assert card.status_code == 200, card.text
    funded = await wait_status(http, token, app_id, "disbursed")
    loan_id = funded["loan_id"]
    assert loan_id is not None

    loan = (await http.get(f"/v1/loans/{loan_id}", headers=bearer(token))).json()
    assert loan["balances"] == {
        "principal": 50_000,
        "interest": 0,
        "penalty": 0,
        "fees": 2_500,
        "fines": 0,
        "total": 52_500,
    }
    assert [(h["kind"], h["owed"]) for h in loan["history"]] == [
        ("loan_disbursement", {"principal": 50_000, "fees": 2_500})
    ]
    assert loan["status"] == "active" and loan["due_date"] == offer["offer"]["due_date"]
    listed = (await http.get("/v1/loans", headers=bearer(token))).json()["data"]
    assert [x["id"] for x in listed] == [loan_id]
    someone_else = await borrower_token(http, "+447700910099")
    assert (await http.get(f"/v1/loans/{loan_id}", headers=bearer(someone_else))).status_code == 404
    assert await loan_balances(clean, loan_id) == {
        "principal": -50_000,
        "fees": -2_500,
        "interest": 0,
        "penalty": 0,
        "fines": 0,
    }
    async with clean.sessions() as s:
        assert await ledger.house_balance(s, HouseAccount.SETTLEMENT, "GBP") == 50_000
        assert await ledger.house_balance(s, HouseAccount.FEE_INCOME, "GBP") == 2_500
    await ledger_is_whole(clean)
    payouts = [c for c in clean.payments.calls if c[0] == "payout"]
    assert len(payouts) == 1 and payouts[0][1].idempotency_key == f"disburse-{app_id}-1"

    for _ in range(100):  # the postback is its own workflow
        if clean.cpa.received:
            break
        await asyncio.sleep(0.1)
    assert len(clean.cpa.received) == 1
    assert "uid=clk%2042%2F%E2%82%AC" in clean.cpa.received[0] and f"order_id={app_id}" in clean.cpa.received[0]
    messages = await wait_for_outbox(http, phone, count=4)  # sign-in, approved, code, funded (+ the e-mail)
    assert any(m["purpose"] == "application_funded" for m in messages)
    await wait_for_outbox(http, "alice@example.com")

    # Evidence of signing, and the customer's file for staff.
    detail = (await http.get(f"/v1/staff/applications/{app_id}", headers=bearer(admin))).json()
    assert len(detail["agreement"]["document_hash"]) == 64 and detail["agreement"]["signed_at"] is not None
    assert {c["kind"] for c in detail["checks"]} == {"fraud", "bureau", "score"}
    assert all(c["status"] == "received" for c in detail["checks"])
    customer = (await http.get(f"/v1/staff/customers/{detail['user_id']}", headers=bearer(admin))).json()
    assert [loan["id"] for loan in customer["loans"]] == [loan_id]
    assert {m["purpose"] for m in customer["messages"]} >= {"signing_code", "application_funded"}
    assert "body" not in customer["messages"][0]

    # Replayed Stripe events change nothing: still one loan, one disbursement entry.
    for payload, signature in list(clean.payments.delivered):
        replay = await http.post(
            "/v1/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )
        assert replay.status_code == 200
    assert await count(clean, "SELECT count(*) FROM loans") == 1
    assert await count(clean, "SELECT count(*) FROM journal_entries WHERE kind = 'loan_disbursement'") == 1
    # Staff cannot cancel what is funded.
    late = await http.post(
        f"/v1/staff/applications/{app_id}/cancel", json={"reason": "too late"}, headers=bearer(admin)
    )
    assert late.status_code == 409, late.text


async def test_a_delinquent_file_is_rejected_with_reasons_for_each_audience(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await lending_product(http, admin)
    phone = "+447700910002"
    token = await borrower_token(http, phone)
    created = await apply(http, token, application_body(product_id, phone, national_id="DL000001"))
    rejected = await wait_status(http, token, created["id"], "rejected")
    assert rejected["reasons"] == ["credit_history"]
    assert rejected["offer"] is None
    detail = (await http.get(f"/v1/staff/applications/{created['id']}", headers=bearer(admin))).json()
    assert any("3 delinquencies" in r for r in detail["decision"]["staff_reasons"])
    accept = await http.post(f"/v1/applications/{created['id']}/accept", headers=bearer(token))
    assert accept.status_code == 409


async def test_an_underwriter_approves_a_borderline_case_for_less(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await lending_product(http, admin)
    await http.post(
        "/v1/staff/members",
        json={"email": "uw@lendflow.dev", "password": "underwriter-pass-1", "roles": ["underwriter"]},
        headers=bearer(admin),
    )
    await http.post(
        "/v1/staff/members",
        json={"email": "cc@lendflow.dev", "password": "collector-pass-1", "roles": ["collector"]},
        headers=bearer(admin),
    )
    underwriter = await staff_token(http, "uw@lendflow.dev", "underwriter-pass-1")
    collector = await staff_token(http, "cc@lendflow.dev", "collector-pass-1")
    phone = "+447700910003"
    token = await borrower_token(http, phone)
    created = await apply(http, token, application_body(product_id, phone, national_id="BD000004"))
    app_id = created["id"]
    await wait_status(http, token, app_id, "manual_review")
    queue = (
        await http.get("/v1/staff/applications", params={"status": "manual_review"}, headers=bearer(underwriter))
    ).json()
    assert [a["id"] for a in queue["data"]] == [app_id]
    assert any("score 500" in r for r in queue["data"][0]["decision"]["staff_reasons"])

    url = f"/v1/staff/applications/{app_id}/decision"
    forbidden = await http.post(url, json={"decision": "approve", "reason": "ok"}, headers=bearer(collector))
    assert forbidden.status_code == 403
    too_much = await http.post(
        url, json={"decision": "approve", "principal": 60_000, "reason": "more"}, headers=bearer(underwriter)
    )
    assert too_much.status_code == 422, too_much.text
    approved = await http.post(
        url, json={"decision": "approve", "principal": 30_000, "reason": "thin margin"}, headers=bearer(underwriter)
    )
    assert approved.status_code == 200, approved.text
    offer = await wait_status(http, token, app_id, "offered")
    assert offer["offer"]["principal"] == 30_000 and offer["reasons"] == ["lower_amount"]
    twice = await http.post(url, json={"decision": "reject", "reason": "changed my mind"}, headers=bearer(underwriter))
    assert twice.status_code == 409  # only while in review
    audit = (await http.get("/v1/staff/audit", params={"action": "application.decision"}, headers=bearer(admin))).json()
    assert len(audit["data"]) == 1


async def test_wrong_signing_codes_cancel_the_application(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    phone = "+447700910004"
    token, app_id, _ = await offered(http, admin, phone)
    assert (await http.post(f"/v1/applications/{app_id}/accept", headers=bearer(token))).status_code == 200
    code = await signing_code(http, phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    left = []
    for _ in range(clean.settings.signing_max_attempts):
        response = await http.post(f"/v1/applications/{app_id}/sign", json={"code": wrong}, headers=bearer(token))
        assert response.status_code == 422 and response.json()["code"] == "invalid_code", response.text
        left.append(response.json()["attempts_left"])
    assert left == [2, 1, 0]
    cancelled = await wait_status(http, token, app_id, "cancelled")
    assert cancelled["loan_id"] is None
    late = await http.post(f"/v1/applications/{app_id}/sign", json={"code": code}, headers=bearer(token))
    assert late.status_code == 409  # the right code after the end signs nothing
    assert await count(clean, "SELECT count(*) FROM loan_agreements WHERE voided_at IS NOT NULL") == 1


async def test_a_new_code_replaces_the_old_one_a_limited_number_of_times(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    phone = "+447700910005"
    token, app_id, _ = await offered(http, admin, phone)
    assert (await http.post(f"/v1/applications/{app_id}/accept", headers=bearer(token))).status_code == 200
    first = await signing_code(http, phone)
    for n in range(2, clean.settings.signing_max_codes + 1):
        resent = await http.post(f"/v1/applications/{app_id}/sign/resend", headers=bearer(token))
        assert resent.status_code == 200, resent.text
        await signing_code(http, phone, count=n)
    refused = await http.post(f"/v1/applications/{app_id}/sign/resend", headers=bearer(token))
    assert refused.status_code == 422 and refused.json()["code"] == "limit_exceeded"
    latest = await signing_code(http, phone, count=clean.settings.signing_max_codes)
    if first != latest:
        stale = await http.post(f"/v1/applications/{app_id}/sign", json={"code": first}, headers=bearer(token))
        assert stale.status_code == 422
    ok = await http.post(f"/v1/applications/{app_id}/sign", json={"code": latest}, headers=bearer(token))
    assert ok.status_code == 200, ok.text


async def test_a_review_nobody_takes_is_escalated_then_expires(http: httpx.AsyncClient, clean: Stack) -> None:
    settings = clean.settings
    saved = settings.review_target_seconds, settings.review_expiry_seconds
    settings.review_target_seconds, settings.review_expiry_seconds = 1, 3
    try:
        admin = await admin_token(http, settings)
        product_id = await lending_product(http, admin)
        phone = "+447700910006"
        token = await borrower_token(http, phone)
        created = await apply(http, token, application_body(product_id, phone, national_id="BD000004"))
        expired = await wait_status(http, token, created["id"], "expired", timeout_s=30)
    finally:
        settings.review_target_seconds, settings.review_expiry_seconds = saved
    detail = (await http.get(f"/v1/staff/applications/{expired['id']}", headers=bearer(admin))).json()
    assert detail["escalated_at"] is not None and detail["failure_code"] == "review_expired"
    escalations = await count(clean, "SELECT count(*) FROM audit_log WHERE action = 'application.review_escalated'")
    assert escalations == 1


async def test_a_failed_payout_ends_the_application_without_a_loan(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    phone = "+447700910007"
    token, app_id = await signed(http, admin, phone)
    card = await http.post(
        f"/v1/applications/{app_id}/card", json={"payment_method": "pm_card_payout_fail"}, headers=bearer(token)
    )
    assert card.status_code == 200, card.text
    failed = await wait_status(http, token, app_id, "failed")
    assert failed["loan_id"] is None
    assert await count(clean, "SELECT count(*) FROM loans") == 0
    assert await count(clean, "SELECT count(*) FROM journal_entries") == 0
    assert await count(clean, "SELECT count(*) FROM loan_agreements WHERE voided_at IS NOT NULL") == 1
    detail = (await http.get(f"/v1/staff/applications/{app_id}", headers=bearer(admin))).json()
    assert detail["failure_code"] == "account_closed"  # a closed account is not retried


async def test_a_payout_nobody_confirms_is_cancelled_not_left_in_flight(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    phone = "+447700910008"
    token, app_id = await signed(http, admin, phone)
    before = set(clean.payments.payout_statuses())
    card = await http.post(
        f"/v1/applications/{app_id}/card", json={"payment_method": "pm_card_silent"}, headers=bearer(token)
    )
    assert card.status_code == 200, card.text
    await wait_status(http, token, app_id, "failed", timeout_s=40)
    ours = {ref: status for ref, status in clean.payments.payout_statuses().items() if ref not in before}
    assert list(ours.values()) == ["canceled"]
    assert await count(clean, "SELECT count(*) FROM loans") == 0


async def test_a_forged_or_replayed_callback_changes_nothing(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    phone = "+447700910009"
    token, app_id, _ = await offered(http, admin, phone)
    forged_stripe = await http.post(
        "/v1/webhooks/stripe", content=b'{"id": "evt_x"}', headers={"Stripe-Signature": "t=1,v1=00"}
    )
    assert forged_stripe.status_code == 400
    score = json.dumps({"id": "evt_forged", "reference": "sc_x", "application_id": app_id, "score": 999}).encode()
    forged = await http.post(
        f"/v1/webhooks/bureau/{clean.settings.scoring_name}",
        content=score,
        headers={"X-Signature": sign_body("not-the-secret", score)},
    )
    assert forged.status_code == 400
    assert clean.scoring.delivered, "the scoring callback came"
    body, signature = clean.scoring.delivered[0]
    replay = await http.post(
        f"/v1/webhooks/bureau/{clean.settings.scoring_name}", content=body, headers={"X-Signature": signature}
    )
    assert replay.status_code == 200
    assert (
        await count(clean, "SELECT count(*) FROM webhook_inbox WHERE provider = :p", p=clean.settings.scoring_name) == 1
    )
    assert (await http.get(f"/v1/applications/{app_id}", headers=bearer(token))).json()["status"] == "offered"


async def test_a_bureau_that_is_down_falls_back_then_goes_to_a_person(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await lending_product(http, admin)
    primary, fallback = (
        clean.bureaus[n] for n in (clean.settings.bureau_primary_name, clean.settings.bureau_fallback_name)
    )
    primary.behaviour.down = True
    phone = "+447700910010"
    token = await borrower_token(http, phone)
    first = await apply(http, token, application_body(product_id, phone))
    await wait_status(http, token, first["id"], "offered")
    detail = (await http.get(f"/v1/staff/applications/{first['id']}", headers=bearer(admin))).json()
    assert [c["provider"] for c in detail["checks"] if c["kind"] == "bureau"] == [fallback.name]
    assert primary.calls == clean.settings.provider_attempts

    fallback.behaviour.down = True
    second = await apply(http, token, application_body(product_id, phone, national_id="CD987654"))
    await wait_status(http, token, second["id"], "manual_review")
    detail = (await http.get(f"/v1/staff/applications/{second['id']}", headers=bearer(admin))).json()
    assert "no credit bureau answered" in detail["decision"]["staff_reasons"]


async def test_staff_cancel_an_offer_and_the_borrower_is_told(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    phone = "+447700910011"
    _, app_id, _ = await offered(http, admin, phone)
    cancelled = await http.post(
        f"/v1/staff/applications/{app_id}/cancel", json={"reason": "customer called"}, headers=bearer(admin)
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    messages = await wait_for_outbox(http, phone, count=3)
    assert any(m["purpose"] == "application_cancelled" for m in messages)
    again = await http.post(f"/v1/staff/applications/{app_id}/cancel", json={"reason": "again"}, headers=bearer(admin))
    assert again.status_code == 409


async def test_a_blacklisted_phone_and_a_busy_device_are_caught(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await lending_product(http, admin)
    listed = await http.post(
        "/v1/staff/blacklist",
        json={"kind": "phone", "value": "+44 7700 910012", "reason": "confirmed fraud"},
        headers=bearer(admin),
    )
    assert listed.status_code == 204, listed.text
    token = await borrower_token(http, "+447700910012")
    refused = await apply(http, token, application_body(product_id, "+447700910012"))
    assert (await wait_status(http, token, refused["id"], "rejected"))["reasons"] == ["policy"]

    shared = "device-shared-by-many"
    ids = []
    for n, phone in enumerate(("+447700910013", "+447700910014", "+447700910015")):
        other = await borrower_token(http, phone)
        created = await apply(
            http, other, application_body(product_id, phone, national_id=f"ND00{n}777", device=shared)
        )
        ids.append((other, created["id"]))
    other, last = ids[-1]
    await wait_status(http, other, last, "manual_review")
    detail = (await http.get(f"/v1/staff/applications/{last}", headers=bearer(admin))).json()
    assert any("device shared with 2 other applicants" in r for r in detail["decision"]["staff_reasons"])


async def test_bad_applications_are_refused_and_change_nothing(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await lending_product(http, admin)
    token = await borrower_token(http, "+447700910016")
    base = application_body(product_id, "+447700910016")
    for bad in (
        {**base, "principal": 5_500},  # below the minimum and off the step
        {**base, "term_days": 90},
        {**base, "product_id": str(uuid.uuid4())},
        {**base, "applicant": {**base["applicant"], "phone": "12345"}},
        {**base, "source": {"network": "nosuchnetwork", "click_id": "x"}},
    ):
        response = await http.post("/v1/applications", json=bad, headers=bearer(token))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert await count(clean, "SELECT count(*) FROM loan_applications") == 0


async def test_a_finished_application_replays_deterministically(http: httpx.AsyncClient, clean: Stack) -> None:
    """The history a worker wrote replays on the current code without a nondeterminism error."""
    admin = await admin_token(http, clean.settings)
    token, app_id = await signed(http, admin, "+447700910017")
    await http.post(f"/v1/applications/{app_id}/card", json={"payment_method": "pm_card_visa"}, headers=bearer(token))
    await wait_status(http, token, app_id, "disbursed")
    handle = clean.temporal.get_workflow_handle(f"loan-application-{app_id}")
    await handle.result()
    replayer = Replayer(workflows=list(WORKFLOWS), data_converter=data_converter(Settings()))
    await replayer.replay_workflow(await handle.fetch_history())
