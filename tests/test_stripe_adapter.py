"""The Stripe adapter through the real stripe SDK against localstripe (a stateful fake Stripe server).

localstripe has no idempotency keys, no decline codes and no Connect. Where the adapter leans on those, the tests
prove the guarantee one level up instead: the activity records the provider's reference and does not call again."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import stripe

from activities.payments import PaymentActivities
from contracts.payments import OperationRef
from providers.payments.protocol import ChargeRequest, PaymentDeclined, PayoutRequest
from providers.payments.stripe_payments import StripePayments
from providers.payments.stripe_webhooks import StripeWebhookVerifier
from store.repositories import wallet_operations as operations
from store.repositories import wallets as wallet_store
from store.repositories.identity import user_for_phone
from tests.conftest import Stack
from workers.devstack.ports import free_port, wait_for_port

API_KEY = "sk_test_lendflow"
SECRET = "whsec_localstripe_test"


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


class WebhookReceiver:
    def __init__(self) -> None:
        self.received: list[tuple[bytes, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append((body, self.headers.get("Stripe-Signature", "")))
                self.send_response(200)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, event_type: str, timeout_s: float = 15) -> tuple[bytes, str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for body, signature in self.received:
                if json.loads(body)["type"] == event_type:
                    return body, signature
            time.sleep(0.1)
        raise AssertionError(f"no {event_type} webhook arrived")


@pytest.fixture(scope="module")
def webhooks(localstripe: str) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    httpx.post(
        f"{localstripe}/_config/webhooks/lendflow", data={"url": receiver.url, "secret": SECRET}
    ).raise_for_status()
    yield receiver
    receiver.server.shutdown()


async def test_a_card_charge_succeeds_and_stripe_signs_its_webhook(localstripe: str, webhooks: WebhookReceiver) -> None:
    payments = StripePayments(API_KEY, api_base=localstripe)
    operation_id = str(uuid.uuid4())
    charged = await payments.charge(
        ChargeRequest(
            1_500, "EUR", "pm_card_visa", f"topup-{operation_id}", {"operation_id": operation_id, "kind": "topup"}
        )
    )
    assert charged.reference.startswith("pi_")
    assert charged.status == "succeeded"
    body, signature = webhooks.wait_for("payment_intent.succeeded")
    event = StripeWebhookVerifier(SECRET).verify(body, signature)
    assert event.metadata["operation_id"] == operation_id
    tampered = body.replace(b"1500", b"9999")
    with pytest.raises(Exception, match="signature"):
        StripeWebhookVerifier(SECRET).verify(tampered, signature)


async def test_a_declined_card_is_a_final_refusal(localstripe: str) -> None:
    # localstripe does not know pm_card_chargeDeclinedInsufficientFunds and declines at charge time only the cards
    # behind pm_card_chargeCustomerFail (Stripe's "attaches, then fails to charge" card), so that one stands in.
    payments = StripePayments(API_KEY, api_base=localstripe)
    with pytest.raises(PaymentDeclined) as declined:
        await payments.charge(ChargeRequest(1_500, "EUR", "pm_card_chargeCustomerFail", "k-declined"))
    # localstripe gives no decline codes; real Stripe names the reason (insufficient_funds, expired_card, ...).
    assert declined.value.code in ("card_declined", "insufficient_funds", "generic_decline")


async def test_a_payout_is_created_pending(localstripe: str, webhooks: WebhookReceiver) -> None:
    payments = StripePayments(API_KEY, api_base=localstripe)
    paid = await payments.payout(
        PayoutRequest(2_000, "EUR", "ba_1234", "payout-x", {"operation_id": "x", "kind": "payout"})
    )
    assert paid.reference.startswith("po_")
    assert paid.status == "pending"
    webhooks.wait_for("payout.created")


async def test_a_card_is_saved_to_a_customer_and_a_pending_payout_can_be_cancelled(localstripe: str) -> None:
    payments = StripePayments(API_KEY, api_base=localstripe)
    saved = await payments.save_card("pm_card_visa", None, "card-test-1")
    assert saved.customer_reference.startswith("cus_") and saved.payment_method.startswith("pm_")
    assert saved.last4 == "4242"
    again = await payments.save_card("pm_card_visa", saved.customer_reference, "card-test-2")
    assert again.customer_reference == saved.customer_reference  # one customer per borrower
    with pytest.raises(PaymentDeclined) as declined:  # localstripe refuses to attach this test card
        await payments.save_card("pm_card_visa_chargeDeclined", saved.customer_reference, "card-test-3")
    assert declined.value.code == "card_declined"
    paid = await payments.payout(PayoutRequest(2_000, "EUR", "ba_1234", "payout-c", {"kind": "disbursement"}))
    assert (await payments.payout_status(paid.reference)).status == "pending"
    assert (await payments.cancel_payout(paid.reference)).status == "canceled"
    # Cancelling again is refused by Stripe; the adapter answers the payout's final status instead.
    assert (await payments.cancel_payout(paid.reference)).status == "canceled"


async def test_a_retried_charge_activity_charges_once_even_without_idempotency_keys(
    localstripe: str, clean: Stack
) -> None:
    async with clean.sessions.begin() as s:
        user = await user_for_phone(s, clean.cipher, "+447700900800")
        wallet_type = wallet_store.WalletType("main", ["EUR"], "EUR", 0, None, 0, 0, False, True, True)  # type: ignore[arg-type]
        await wallet_store.put_wallet_type(s, wallet_type)
        wallet = await wallet_store.open_wallet(s, owner_id=user.id, wallet_type=wallet_type, currency="EUR")
        op = await operations.record_operation(
            s,
            operation_id=uuid.uuid4(),
            kind="topup",
            wallet_id=wallet.id,
            owner_id=user.id,
            amount=900,
            currency="EUR",
            instrument="pm_card_visa",
        )
    activities = PaymentActivities(clean.sessions, StripePayments(API_KEY, api_base=localstripe))
    first = await activities.charge_for_topup(OperationRef(operation_id=str(op.id)))
    again = await activities.charge_for_topup(OperationRef(operation_id=str(op.id)))
    assert first.reference == again.reference
    client = stripe.StripeClient(API_KEY, base_addresses={"api": localstripe})
    intents = await client.v1.payment_intents.list_async({"limit": 100})
    assert sum(1 for intent in intents.data if intent.metadata.to_dict().get("operation_id") == str(op.id)) == 1
