"""Money in and out of wallets through the payment provider: credited only when the provider confirms, held
before a payout and released if it fails, and never twice for a repeated callback or request."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from domain.accounts import HouseAccount
from store import ledger
from tests.conftest import BASE_URL, Stack
from tests.helpers import admin_token, bearer
from tests.test_wallets import balances, configure, fund, holder, ledger_is_whole


async def settled(http: httpx.AsyncClient, token: str, kind: str, operation_id: str) -> dict[str, Any]:
    for _ in range(150):
        view: dict[str, Any] = (await http.get(f"/v1/{kind}/{operation_id}", headers=bearer(token))).json()
        if view["status"] in ("succeeded", "failed"):
            return view
        await asyncio.sleep(0.1)
    raise AssertionError(f"{kind} {operation_id} never settled: {view}")


async def available(http: httpx.AsyncClient, token: str) -> int:
    data = (await http.get("/v1/wallets", headers=bearer(token))).json()["data"]
    return int(data[0]["available"]["amount"])


async def test_a_top_up_is_credited_when_the_provider_confirms(http: httpx.AsyncClient, clean: Stack) -> None:
    await configure(http, await admin_token(http, clean.settings))
    alice = await holder(http, "+447700900700")
    body = {
        "wallet": alice["wallets"]["USD"],
        "amount": {"amount": 2_500, "currency": "USD"},
        "payment_method": "pm_card_visa",
    }
    created = await http.post("/v1/topups", json=body, headers=bearer(alice["token"]))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "pending"
    view = await settled(http, alice["token"], "topups", created.json()["id"])
    assert view["status"] == "succeeded"
    assert await balances(http, alice["token"]) == {"USD": 2_500}
    # Stripe may deliver the same event again: nothing changes.
    await clean.payments.drain()
    for payload, signature in clean.payments.delivered:
        again = await http.post(
            f"{BASE_URL}/v1/webhooks/stripe",
            content=payload,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )
        assert again.status_code == 200
    assert await balances(http, alice["token"]) == {"USD": 2_500}
    async with clean.sessions() as s:
        assert await ledger.house_balance(s, HouseAccount.SETTLEMENT, "USD") == -2_500
    await ledger_is_whole(clean)


async def test_a_declined_card_changes_no_balance(http: httpx.AsyncClient, clean: Stack) -> None:
    await configure(http, await admin_token(http, clean.settings))
    alice = await holder(http, "+447700900701")
    body = {
        "wallet": alice["wallets"]["USD"],
        "amount": {"amount": 2_500, "currency": "USD"},
        "payment_method": "pm_card_chargeDeclinedInsufficientFunds",
    }
    created = await http.post("/v1/topups", json=body, headers=bearer(alice["token"]))
    view = await settled(http, alice["token"], "topups", created.json()["id"])
    assert (view["status"], view["failure_code"]) == ("failed", "insufficient_funds")
    assert await balances(http, alice["token"]) == {"USD": 0}


async def test_a_repeated_top_up_request_charges_once(http: httpx.AsyncClient, clean: Stack) -> None:
    await configure(http, await admin_token(http, clean.settings))
    alice = await holder(http, "+447700900702")
    body = {
        "wallet": alice["wallets"]["USD"],
        "amount": {"amount": 700, "currency": "USD"},
        "payment_method": "pm_card_visa",
    }
    headers = {**bearer(alice["token"]), "Idempotency-Key": "topup-once"}
    first = await http.post("/v1/topups", json=body, headers=headers)
    second = await http.post("/v1/topups", json=body, headers=headers)
    assert first.json()["id"] == second.json()["id"]
    await settled(http, alice["token"], "topups", first.json()["id"])
    assert await balances(http, alice["token"]) == {"USD": 700}
    assert len([call for call in clean.payments.calls if call[0] == "charge"]) == 1


async def test_a_payout_holds_then_posts_when_the_provider_pays(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    alice = await holder(http, "+447700900703")
    await fund(http, admin, alice["wallets"]["USD"], 5_000)
    body = {
        "wallet": alice["wallets"]["USD"],
        "amount": {"amount": 3_000, "currency": "USD"},
        "destination": "ba_alice",
    }
    clean.payments.behaviour.latency_s = 0.5
    try:
        created = await http.post("/v1/payouts", json=body, headers=bearer(alice["token"]))
        assert created.status_code == 201, created.text
        assert await available(http, alice["token"]) == 2_000  # held while the provider works
        assert await balances(http, alice["token"]) == {"USD": 5_000}
        view = await settled(http, alice["token"], "payouts", created.json()["id"])
    finally:
        clean.payments.behaviour.latency_s = 0.05
    assert view["status"] == "succeeded"
    assert await balances(http, alice["token"]) == {"USD": 2_000}
    assert await available(http, alice["token"]) == 2_000
    await ledger_is_whole(clean)


async def test_a_failed_payout_releases_the_hold(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    alice = await holder(http, "+447700900704")
    await fund(http, admin, alice["wallets"]["USD"], 5_000)
    body = {
        "wallet": alice["wallets"]["USD"],
        "amount": {"amount": 3_000, "currency": "USD"},
        "destination": "ba_will_fail",
    }
    created = await http.post("/v1/payouts", json=body, headers=bearer(alice["token"]))
    view = await settled(http, alice["token"], "payouts", created.json()["id"])
    assert (view["status"], view["failure_code"]) == ("failed", "account_closed")
    assert await balances(http, alice["token"]) == {"USD": 5_000}
    assert await available(http, alice["token"]) == 5_000
    await ledger_is_whole(clean)


async def test_a_payout_nobody_confirms_is_cancelled_before_the_hold_is_released(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    alice = await holder(http, "+447700900705")
    await fund(http, admin, alice["wallets"]["USD"], 5_000)
    body = {
        "wallet": alice["wallets"]["USD"],
        "amount": {"amount": 3_000, "currency": "USD"},
        "destination": "ba_silent",
    }
    before = set(clean.payments.payout_statuses())
    saved = clean.settings.payout_confirm_wait_seconds
    clean.settings.payout_confirm_wait_seconds = 1
    try:
        created = await http.post("/v1/payouts", json=body, headers=bearer(alice["token"]))
    finally:
        clean.settings.payout_confirm_wait_seconds = saved
    view = await settled(http, alice["token"], "payouts", created.json()["id"])
    assert (view["status"], view["failure_code"]) == ("failed", "not_confirmed")
    ours = [status for ref, status in clean.payments.payout_statuses().items() if ref not in before]
    assert ours == ["canceled"]  # it cannot land after the money is back in the wallet
    assert await available(http, alice["token"]) == 5_000
    await ledger_is_whole(clean)


async def test_a_payout_beyond_the_balance_is_refused_at_once(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    alice = await holder(http, "+447700900705")
    await fund(http, admin, alice["wallets"]["USD"], 100)
    body = {"wallet": alice["wallets"]["USD"], "amount": {"amount": 101, "currency": "USD"}, "destination": "ba_alice"}
    refused = await http.post("/v1/payouts", json=body, headers=bearer(alice["token"]))
    assert (refused.status_code, refused.json()["code"]) == (422, "insufficient_funds")
    assert [call for call in clean.payments.calls if call[0] == "payout"] == []
    assert await available(http, alice["token"]) == 100


async def test_a_forged_stripe_webhook_is_refused(http: httpx.AsyncClient, clean: Stack) -> None:
    response = await http.post(
        "/v1/webhooks/stripe",
        content=b'{"id": "evt_1", "type": "payout.paid"}',
        headers={"Stripe-Signature": "t=1,v1=deadbeef", "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")
