"""A payout in flight is always settled: when the provider is late or has lost it, the workflow asks its record,
asks again under the same idempotency key, cancels, or hands staff a case; a payout is never left `disbursing`
for good, and a loan is funded exactly once. Staff see payouts in flight and reconcile, retry or cancel them."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import text

from providers.payments.stripe_webhooks import sign_stripe_payload
from tests.conftest import Stack
from tests.helpers import admin_token, bearer
from tests.origination_steps import signed, wait_status
from tests.servicing_steps import scalar, wait_until
from tests.test_wallets import ledger_is_whole


async def _card(http: httpx.AsyncClient, token: str, app_id: str, payment_method: str = "pm_card_visa") -> None:
    card = await http.post(
        f"/v1/applications/{app_id}/card", json={"payment_method": payment_method}, headers=bearer(token)
    )
    assert card.status_code == 200, card.text


async def _funded_once(stack: Stack, app_id: str) -> None:
    loans = await scalar(stack, "SELECT count(*) FROM loans WHERE application_id = :app", app=app_id)
    entries = await scalar(stack, "SELECT count(*) FROM journal_entries WHERE kind = 'loan_disbursement'")
    assert (loans, entries) == (1, 1)
    await ledger_is_whole(stack)


async def _in_flight(http: httpx.AsyncClient, admin: str, **params: Any) -> list[dict[str, Any]]:
    """Payouts in flight that the provider has taken (so they carry its reference)."""
    response = await http.get("/v1/staff/payouts", params=params, headers=bearer(admin))
    assert response.status_code == 200, response.text
    return [p for p in response.json()["data"] if p["provider_reference"]]


async def test_a_payout_the_provider_lost_is_asked_for_again_and_funds_the_loan_once(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    token, app_id = await signed(http, admin, "+447700940001")
    before = set(clean.payments.payout_statuses())
    clean.payments.behaviour.payouts_to_lose = 1  # acknowledged, then "No such payout" and no callback
    await _card(http, token, app_id)
    [payout] = await wait_until(lambda: _in_flight(http, admin), "the payout in flight")
    assert payout["application_id"] == app_id and payout["amount"] == {"amount": 50_000, "currency": "GBP"}
    lost = payout["provider_reference"]
    assert lost not in clean.payments.payout_statuses()
    await wait_status(http, token, app_id, "disbursed", timeout_s=40)
    paid = [ref for ref, status in clean.payments.payout_statuses().items() if status == "paid" and ref not in before]
    assert len([c for c in clean.payments.calls if c[0] == "payout"]) == 2 and len(paid) == 1
    assert await scalar(clean, "SELECT disbursement_reference FROM loans") == paid[0] != lost
    await _funded_once(clean, app_id)


async def test_a_payout_nobody_can_settle_becomes_a_staff_case_and_a_retry_funds_it(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    token, app_id = await signed(http, admin, "+447700940002")
    # Lost twice: the first request and the workflow's own request again; its cancel then finds nothing either.
    clean.payments.behaviour.payouts_to_lose = 2
    await _card(http, token, app_id)
    [case] = await wait_until(lambda: _in_flight(http, admin, cases_only="true"), "a staff case", timeout_s=45)
    assert case["case"] == "unknown_at_provider"
    assert (await http.get(f"/v1/applications/{app_id}", headers=bearer(token))).json()["status"] == "disbursing"

    support = await http.post(
        f"/v1/staff/applications/{app_id}/payout",
        json={"action": "retry", "reason": "provider lost it"},
        headers=bearer(token),
    )
    assert support.status_code in (401, 403)
    retried = await http.post(
        f"/v1/staff/applications/{app_id}/payout",
        json={"action": "retry", "reason": "provider lost it, ticket 42"},
        headers=bearer(admin),
    )
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "processing"
    await wait_status(http, token, app_id, "disbursed", timeout_s=20)
    await _funded_once(clean, app_id)
    actions = (await http.get("/v1/staff/audit", headers=bearer(admin))).json()["data"]
    assert {"application.payout_case_opened", "application.payout_retry", "application.payout_case_closed"} <= {
        a["action"] for a in actions
    }
    done = await http.post(
        f"/v1/staff/applications/{app_id}/payout",
        json={"action": "cancel", "reason": "too late"},
        headers=bearer(admin),
    )
    assert done.status_code == 409


async def test_staff_cancel_a_payout_the_bank_never_confirms_and_nothing_is_owed(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    token, app_id = await signed(http, admin, "+447700940003")
    await _card(http, token, app_id, "pm_card_visa_silent")  # the bank never reports back
    await wait_until(lambda: _in_flight(http, admin), "the payout in flight")
    reconciled = await http.post(
        f"/v1/staff/applications/{app_id}/payout",
        json={"action": "reconcile", "reason": "customer called"},
        headers=bearer(admin),
    )
    assert reconciled.status_code == 200, reconciled.text
    assert (reconciled.json()["status"], reconciled.json()["application_status"]) == ("pending", "disbursing")
    cancelled = await http.post(
        f"/v1/staff/applications/{app_id}/payout",
        json={"action": "cancel", "reason": "bank silent for days"},
        headers=bearer(admin),
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["application_status"] == "failed"
    ended = await wait_status(http, token, app_id, "failed")
    assert ended["loan_id"] is None
    assert clean.payments.payout_statuses()[cancelled.json()["reference"]] == "canceled"
    assert await scalar(clean, "SELECT count(*) FROM loans") == 0


async def test_a_signed_payout_callback_for_another_payout_or_amount_is_refused(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    token, app_id = await signed(http, admin, "+447700940004")
    await _card(http, token, app_id, "pm_card_visa_silent")  # our payout stays pending: nothing confirms it
    [payout] = await wait_until(lambda: _in_flight(http, admin), "the payout in flight")
    secret = clean.settings.stripe_webhook_secret

    async def send(**changes: Any) -> httpx.Response:
        obj = {
            "id": payout["provider_reference"],
            "object": "payout",
            "amount": 50_000,
            "currency": "gbp",
            "status": "paid",
            "metadata": {"application_id": app_id, "kind": "disbursement", "attempt": "1"},
        }
        obj |= changes
        payload = json.dumps(
            {
                "id": f"evt_forged_{len(changes)}_{sorted(changes)}",
                "object": "event",
                "type": "payout.paid",
                "created": 0,
                "data": {"object": obj},
            }
        )
        return await http.post(
            "/v1/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": sign_stripe_payload(payload, secret), "content-type": "application/json"},
        )

    for forged in ({"id": "po_someone_elses"}, {"amount": 5_000_000}, {"currency": "usd"}):
        refused = await send(**forged)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "callback_mismatch"
    assert await scalar(clean, "SELECT count(*) FROM webhook_inbox WHERE provider = 'stripe'") == 0
    assert (await http.get(f"/v1/applications/{app_id}", headers=bearer(token))).json()["status"] == "disbursing"
    assert await scalar(clean, "SELECT count(*) FROM journal_entries") == 0
    accepted = await send()  # the genuine word about our payout settles it
    assert accepted.status_code == 200, accepted.text
    await wait_status(http, token, app_id, "disbursed")
    await _funded_once(clean, app_id)


async def test_a_wallet_payout_callback_must_match_its_operation(http: httpx.AsyncClient, clean: Stack) -> None:
    from tests.test_wallets import configure, fund, holder

    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    alice = await holder(http, "+447700940005")
    await fund(http, admin, alice["wallets"]["USD"], 4_000)
    clean.payments.behaviour.latency_s = 5.0  # our payout's own callback comes late
    try:
        asked = await http.post(
            "/v1/payouts",
            json={
                "wallet": alice["wallets"]["USD"],
                "amount": {"amount": 1_500, "currency": "USD"},
                "destination": "ba_alice",
            },
            headers=bearer(alice["token"]),
        )
        assert asked.status_code == 201, asked.text
        operation = asked.json()["id"]
        await wait_until(lambda: _status_is(clean, operation, "processing"), "the payout asked of the provider")
        payload = json.dumps(
            {
                "id": "evt_forged_wallet",
                "object": "event",
                "type": "payout.paid",
                "created": 0,
                "data": {
                    "object": {
                        "id": "po_not_ours",
                        "object": "payout",
                        "amount": 1_500,
                        "currency": "usd",
                        "metadata": {"operation_id": operation, "kind": "payout"},
                    }
                },
            }
        )
        forged = await http.post(
            "/v1/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": sign_stripe_payload(payload, clean.settings.stripe_webhook_secret)},
        )
        assert forged.status_code == 422, forged.text
        status = await scalar(clean, "SELECT status FROM wallet_operations WHERE id = :id", id=operation)
        assert status == "processing"
    finally:
        clean.payments.behaviour.latency_s = 0.05
    await clean.payments.drain()
    await wait_until(
        lambda: _status_is(clean, operation, "succeeded"), "the genuine callback settles the payout", timeout_s=20
    )
    await ledger_is_whole(clean)


async def _status_is(stack: Stack, operation: str, expected: str) -> bool:
    async with stack.sessions() as s:
        status = await s.scalar(text("SELECT status FROM wallet_operations WHERE id = :id"), {"id": operation})
    return bool(status == expected)
