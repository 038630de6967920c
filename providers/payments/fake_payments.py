"""A local payment provider that answers like Stripe and calls back like Stripe.

Stripe's test payment methods behave as documented: `pm_card_visa` (and other `pm_card_*` brands) succeed,
`pm_card_chargeDeclinedInsufficientFunds` and `pm_card_chargeDeclined` are declined at once with a card error. A
charge that succeeds answers `succeeded` and then sends `payment_intent.succeeded`; a declined one sends
`payment_intent.payment_failed`. Payouts answer `pending`, then send `payout.paid`, or `payout.failed` for a
destination containing "fail"; one containing "silent" never reports back (payout_status stays `pending`).
Webhooks are signed with the endpoint secret exactly as Stripe signs them, and the same idempotency key returns the
first answer without a second callback.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from providers.http_client import PooledHttpClient
from providers.payments.protocol import (
    ChargeRequest,
    PaymentDeclined,
    PaymentProviderUnavailable,
    PayoutRequest,
    ProviderOperation,
    SavedCard,
)
from providers.payments.stripe_webhooks import sign_stripe_payload

log = logging.getLogger(__name__)

DECLINES = {
    "pm_card_chargeDeclinedInsufficientFunds": ("insufficient_funds", "Your card has insufficient funds."),
    "pm_card_chargeDeclined": ("generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "Your card has expired."),
}


@dataclass
class FakePaymentsBehaviour:
    latency_s: float = 0.2
    failures_to_inject: int = 0
    # Decline codes for the next charges, whatever the card: a real card is short of funds one day and not the next.
    declines_to_inject: list[str] = field(default_factory=list)


class FakePayments:
    name = "fake"

    def __init__(
        self, webhook_url: str, webhook_secret: str, *, behaviour: FakePaymentsBehaviour | None = None,
        http_client_factory: Callable[[], httpx.AsyncClient] = httpx.AsyncClient,
    ) -> None:  # fmt: skip
        self._webhook_url, self._secret = webhook_url, webhook_secret
        self.behaviour = behaviour or FakePaymentsBehaviour()
        self._http = PooledHttpClient(http_client_factory)
        self._answers: dict[str, ProviderOperation | PaymentDeclined] = {}
        self.calls: list[tuple[str, Any]] = []
        self._callbacks: set[asyncio.Task[None]] = set()
        # Every delivered event with its signature header: Stripe may deliver one twice, and tests replay them.
        self.delivered: list[tuple[str, str]] = []
        self._payouts: dict[str, str] = {}  # payout id -> status, for payout_status

    async def charge(self, request: ChargeRequest) -> ProviderOperation:
        return self._once(request.idempotency_key, lambda: self._charge(request))

    async def payout(self, request: PayoutRequest) -> ProviderOperation:
        return self._once(request.idempotency_key, lambda: self._payout(request))

    def _once(self, key: str, act: Callable[[], ProviderOperation]) -> ProviderOperation:
        if self.behaviour.failures_to_inject > 0:
            self.behaviour.failures_to_inject -= 1
            raise PaymentProviderUnavailable("fake payments: 503")
        if key not in self._answers:
            try:
                self._answers[key] = act()
            except PaymentDeclined as declined:
                self._answers[key] = declined
        answer = self._answers[key]
        if isinstance(answer, PaymentDeclined):
            raise answer
        return answer

    def _charge(self, request: ChargeRequest) -> ProviderOperation:
        self.calls.append(("charge", request))
        intent_id = "pi_" + secrets.token_hex(12)
        obj = {"id": intent_id, "object": "payment_intent", "amount": request.amount,
               "currency": request.currency.lower(), "metadata": request.metadata}  # fmt: skip
        injected = self.behaviour.declines_to_inject.pop(0) if self.behaviour.declines_to_inject else None
        if injected is not None or request.payment_method in DECLINES:
            if injected is not None:
                code, message = injected, f"Your card was declined ({injected})."
            else:
                code, message = DECLINES[request.payment_method]
            obj |= {"status": "requires_payment_method",
                    "last_payment_error": {"code": "card_declined", "decline_code": code, "message": message}}  # fmt: skip
            self._send("payment_intent.payment_failed", obj)
            raise PaymentDeclined(code, message)
        if not request.payment_method.startswith(("pm_", "card_")):
            raise PaymentDeclined("resource_missing", f"No such PaymentMethod: '{request.payment_method}'")
        self._send("payment_intent.succeeded", obj | {"status": "succeeded"})
        return ProviderOperation(self.name, intent_id, "succeeded")

    def _payout(self, request: PayoutRequest) -> ProviderOperation:
        self.calls.append(("payout", request))
        payout_id = "po_" + secrets.token_hex(12)
        obj = {"id": payout_id, "object": "payout", "amount": request.amount, "currency": request.currency.lower(),
               "destination": request.destination, "metadata": request.metadata}  # fmt: skip
        self._payouts[payout_id] = "pending"
        if "silent" in request.destination:  # the bank never reports back; payout_status says pending
            return ProviderOperation(self.name, payout_id, "pending")
        if "fail" in request.destination:
            self._send("payout.failed", obj | {"status": "failed", "failure_code": "account_closed"},
                       lambda: self._settle(payout_id, "failed"))  # fmt: skip
        else:
            self._send("payout.paid", obj | {"status": "paid"}, lambda: self._settle(payout_id, "paid"))
        return ProviderOperation(self.name, payout_id, "pending")

    async def payout_status(self, reference: str) -> ProviderOperation:
        if reference not in self._payouts:
            raise PaymentDeclined("resource_missing", f"No such payout: '{reference}'")
        return ProviderOperation(self.name, reference, self._payouts[reference])

    def _settle(self, payout_id: str, status: str) -> bool:
        """A pending payout reaches its final status; a canceled one sends no callback."""
        if self._payouts[payout_id] != "pending":
            return False
        self._payouts[payout_id] = status
        return True

    def payout_statuses(self) -> dict[str, str]:
        return dict(self._payouts)

    async def cancel_payout(self, reference: str) -> ProviderOperation:
        if reference not in self._payouts:
            raise PaymentDeclined("resource_missing", f"No such payout: '{reference}'")
        self._settle(reference, "canceled")
        return ProviderOperation(self.name, reference, self._payouts[reference])

    async def save_card(self, payment_method: str, customer_reference: str | None, idempotency_key: str) -> SavedCard:
        """Stripe attaches test methods without charging them; an unknown id is `resource_missing`."""
        self.calls.append(("save_card", payment_method))
        if self.behaviour.failures_to_inject > 0:
            self.behaviour.failures_to_inject -= 1
            raise PaymentProviderUnavailable("fake payments: 503")
        if not payment_method.startswith("pm_"):
            raise PaymentDeclined("resource_missing", f"No such PaymentMethod: '{payment_method}'")
        customer = customer_reference or "cus_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:14]
        brand = payment_method.removeprefix("pm_card_").split("_")[0] or "visa"
        return SavedCard(self.name, payment_method, customer, brand, "4242")

    def _send(self, event_type: str, obj: dict[str, Any], settle: Callable[[], bool] | None = None) -> None:
        event = {"id": "evt_" + secrets.token_hex(12), "object": "event", "type": event_type,
                 "created": int(time.time()), "data": {"object": obj}}  # fmt: skip
        task = asyncio.create_task(self._deliver(json.dumps(event), settle))
        self._callbacks.add(task)
        task.add_done_callback(self._callbacks.discard)

    async def _deliver(self, payload: str, settle: Callable[[], bool] | None) -> None:
        await asyncio.sleep(self.behaviour.latency_s)
        if settle is not None and not settle():  # the operation was canceled meanwhile: nothing to report
            return
        for attempt in range(5):  # Stripe retries failed deliveries (for days; we try a few times)
            headers = {"Stripe-Signature": sign_stripe_payload(payload, self._secret),
                       "Content-Type": "application/json"}  # fmt: skip
            try:
                response = await self._http.get().post(self._webhook_url, content=payload, headers=headers, timeout=5)
                if response.status_code < 300:
                    self.delivered.append((payload, headers["Stripe-Signature"]))
                    return
            except httpx.HTTPError as err:
                log.info("fake payments webhook failed (%s), attempt %d", err, attempt + 1)
            await asyncio.sleep(0.5 * (attempt + 1))

    async def drain(self) -> None:
        while self._callbacks:
            await asyncio.gather(*list(self._callbacks), return_exceptions=True)
