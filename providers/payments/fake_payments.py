"""A local payment provider that answers like Stripe and calls back like Stripe.

Stripe's test payment methods behave as documented: `pm_card_visa` (and other `pm_card_*` brands) succeed,
`pm_card_chargeDeclinedInsufficientFunds` and `pm_card_chargeDeclined` are declined at once with a card error. A
charge that succeeds answers `succeeded` and then sends `payment_intent.succeeded`; a declined one sends
`payment_intent.payment_failed`. Payouts answer `pending`, then send `payout.paid`, or `payout.failed` for a
destination containing "fail"; one containing "silent" never reports back (payout_status stays `pending`).
Webhooks are signed with the endpoint secret exactly as Stripe signs them, and the same idempotency key returns the
first answer without a second callback.

Like a real provider, it outlives our processes: given a `state_path`, what it answered (by idempotency key), its
payouts and the callbacks it still owes are kept in SQLite there, so a worker killed after asking for a payout
finds the payout again when it restarts, and the callback is still delivered (`resume_deliveries`). Without a
path the same tables live in memory (tests that do not restart anything).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
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
    latency_s: float = 0.2  # until a callback is delivered
    answer_latency_s: float = 0.0  # until a payout request is answered (a slow API round trip)
    failures_to_inject: int = 0
    # Decline codes for the next charges, whatever the card: a real card is short of funds one day and not the next.
    declines_to_inject: list[str] = field(default_factory=list)
    # The next payouts are acknowledged, then lost by the provider (an incident on its side): no callback, and its
    # status lookup answers "No such payout"; asked again under the same idempotency key, it makes the payout anew.
    payouts_to_lose: int = 0


_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, reference TEXT, status TEXT, code TEXT, message TEXT);
CREATE TABLE IF NOT EXISTS payouts (id TEXT PRIMARY KEY, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (id TEXT PRIMARY KEY, payload TEXT NOT NULL, settle_payout TEXT,
                                   settle_status TEXT, delivered INTEGER NOT NULL DEFAULT 0);
"""


class _State:
    """The provider's own records, in SQLite (a file that outlives our processes, or memory)."""

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path) if path is not None else ":memory:", timeout=10, isolation_level=None)
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def answer(self, key: str) -> ProviderOperation | PaymentDeclined | None:
        row = self._db.execute("SELECT reference, status, code, message FROM answers WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return PaymentDeclined(row[2], row[3]) if row[2] is not None else ProviderOperation("fake", row[0], row[1])

    def remember(self, key: str, answer: ProviderOperation | PaymentDeclined) -> None:
        if isinstance(answer, PaymentDeclined):
            values = (key, None, None, answer.code, answer.message)
        else:
            values = (key, answer.reference, answer.status, None, None)
        self._db.execute("INSERT OR IGNORE INTO answers VALUES (?, ?, ?, ?, ?)", values)

    def payout_status(self, payout_id: str) -> str | None:
        row = self._db.execute("SELECT status FROM payouts WHERE id = ?", (payout_id,)).fetchone()
        return None if row is None else str(row[0])

    def set_payout(self, payout_id: str, status: str, *, only_if: str | None = None) -> bool:
        if only_if is None:
            self._db.execute("INSERT OR REPLACE INTO payouts VALUES (?, ?)", (payout_id, status))
            return True
        changed = self._db.execute(
            "UPDATE payouts SET status = ? WHERE id = ? AND status = ?", (status, payout_id, only_if)
        ).rowcount
        return bool(changed)

    def forget(self, payout_id: str, key: str) -> None:
        """Lost on the provider's side: the payout and the answer kept for its idempotency key."""
        self._db.execute("DELETE FROM payouts WHERE id = ?", (payout_id,))
        self._db.execute("DELETE FROM answers WHERE key = ?", (key,))

    def payouts(self) -> dict[str, str]:
        return {str(i): str(s) for i, s in self._db.execute("SELECT id, status FROM payouts")}

    def owe(self, event_id: str, payload: str, settle: tuple[str, str] | None) -> None:
        payout, status = settle if settle is not None else (None, None)
        self._db.execute(
            "INSERT INTO outbox (id, payload, settle_payout, settle_status) VALUES (?, ?, ?, ?)",
            (event_id, payload, payout, status),
        )

    def owed(self) -> list[tuple[str, str, tuple[str, str] | None]]:
        rows = self._db.execute("SELECT id, payload, settle_payout, settle_status FROM outbox WHERE delivered = 0")
        return [(str(i), str(p), (str(sp), str(ss)) if sp is not None else None) for i, p, sp, ss in rows]

    def delivered(self, event_id: str) -> None:
        self._db.execute("UPDATE outbox SET delivered = 1 WHERE id = ?", (event_id,))


class FakePayments:
    name = "fake"

    def __init__(
        self,
        webhook_url: str,
        webhook_secret: str,
        *,
        behaviour: FakePaymentsBehaviour | None = None,
        http_client_factory: Callable[[], httpx.AsyncClient] = httpx.AsyncClient,
        state_path: Path | None = None,
    ) -> None:
        self._webhook_url, self._secret = webhook_url, webhook_secret
        self.behaviour = behaviour or FakePaymentsBehaviour()
        self._http = PooledHttpClient(http_client_factory)
        self._state = _State(state_path)
        self.calls: list[tuple[str, Any]] = []
        self._callbacks: set[asyncio.Task[None]] = set()
        self._in_delivery: set[str] = set()  # event ids this process is delivering now
        self._losing: set[str] = set()  # payouts acknowledged that the provider is about to lose
        # Every delivered event with its signature header: Stripe may deliver one twice, and tests replay them.
        self.delivered: list[tuple[str, str]] = []

    async def charge(self, request: ChargeRequest) -> ProviderOperation:
        return self._once(request.idempotency_key, lambda: self._charge(request))

    async def payout(self, request: PayoutRequest) -> ProviderOperation:
        if self.behaviour.answer_latency_s:
            await asyncio.sleep(self.behaviour.answer_latency_s)
        answer = self._once(request.idempotency_key, lambda: self._payout(request))
        if answer.reference in self._losing:
            self._losing.discard(answer.reference)
            self._state.forget(answer.reference, request.idempotency_key)
        return answer

    def _once(self, key: str, act: Callable[[], ProviderOperation]) -> ProviderOperation:
        if self.behaviour.failures_to_inject > 0:
            self.behaviour.failures_to_inject -= 1
            raise PaymentProviderUnavailable("fake payments: 503")
        answer = self._state.answer(key)
        if answer is None:
            try:
                answer = act()
            except PaymentDeclined as declined:
                answer = declined
            self._state.remember(key, answer)
        if isinstance(answer, PaymentDeclined):
            raise answer
        return answer

    def _charge(self, request: ChargeRequest) -> ProviderOperation:
        self.calls.append(("charge", request))
        intent_id = "pi_" + secrets.token_hex(12)
        obj = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": request.amount,
            "currency": request.currency.lower(),
            "metadata": request.metadata,
        }
        injected = self.behaviour.declines_to_inject.pop(0) if self.behaviour.declines_to_inject else None
        if injected is not None or request.payment_method in DECLINES:
            if injected is not None:
                code, message = injected, f"Your card was declined ({injected})."
            else:
                code, message = DECLINES[request.payment_method]
            obj |= {
                "status": "requires_payment_method",
                "last_payment_error": {"code": "card_declined", "decline_code": code, "message": message},
            }
            self._send("payment_intent.payment_failed", obj)
            raise PaymentDeclined(code, message)
        if not request.payment_method.startswith(("pm_", "card_")):
            raise PaymentDeclined("resource_missing", f"No such PaymentMethod: '{request.payment_method}'")
        self._send("payment_intent.succeeded", obj | {"status": "succeeded"})
        return ProviderOperation(self.name, intent_id, "succeeded")

    def _payout(self, request: PayoutRequest) -> ProviderOperation:
        self.calls.append(("payout", request))
        payout_id = "po_" + secrets.token_hex(12)
        obj = {
            "id": payout_id,
            "object": "payout",
            "amount": request.amount,
            "currency": request.currency.lower(),
            "destination": request.destination,
            "metadata": request.metadata,
        }
        self._state.set_payout(payout_id, "pending")
        if self.behaviour.payouts_to_lose > 0:  # acknowledged, then lost (see `payout`): it never calls back
            self.behaviour.payouts_to_lose -= 1
            self._losing.add(payout_id)
            return ProviderOperation(self.name, payout_id, "pending")
        if "silent" in request.destination:  # the bank never reports back; payout_status says pending
            return ProviderOperation(self.name, payout_id, "pending")
        if "fail" in request.destination:
            self._send(
                "payout.failed", obj | {"status": "failed", "failure_code": "account_closed"}, (payout_id, "failed")
            )
        else:
            self._send("payout.paid", obj | {"status": "paid"}, (payout_id, "paid"))
        return ProviderOperation(self.name, payout_id, "pending")

    async def payout_status(self, reference: str) -> ProviderOperation:
        status = self._state.payout_status(reference)
        if status is None:
            raise PaymentDeclined("resource_missing", f"No such payout: '{reference}'")
        return ProviderOperation(self.name, reference, status)

    def _settle(self, payout_id: str, status: str) -> bool:
        """A pending payout reaches its final status; a canceled one sends no callback."""
        return self._state.set_payout(payout_id, status, only_if="pending")

    def payout_statuses(self) -> dict[str, str]:
        return self._state.payouts()

    async def cancel_payout(self, reference: str) -> ProviderOperation:
        if self._state.payout_status(reference) is None:
            raise PaymentDeclined("resource_missing", f"No such payout: '{reference}'")
        self._settle(reference, "canceled")
        return ProviderOperation(self.name, reference, self._state.payout_status(reference) or "canceled")

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

    def _send(self, event_type: str, obj: dict[str, Any], settle: tuple[str, str] | None = None) -> None:
        """Owes the callback (kept with the provider's records), then delivers it after the provider's latency."""
        event_id = "evt_" + secrets.token_hex(12)
        event = {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "data": {"object": obj},
        }
        payload = json.dumps(event)
        self._state.owe(event_id, payload, settle)
        self._schedule(event_id, payload, settle)

    def _schedule(self, event_id: str, payload: str, settle: tuple[str, str] | None) -> None:
        self._in_delivery.add(event_id)
        task = asyncio.create_task(self._deliver(event_id, payload, settle))
        self._callbacks.add(task)
        task.add_done_callback(self._callbacks.discard)

    async def resume_deliveries(self) -> int:
        """Delivers the callbacks owed from before a restart (how many); Stripe, too, keeps trying for days."""
        owed = [o for o in self._state.owed() if o[0] not in self._in_delivery]
        for event_id, payload, settle in owed:
            self._schedule(event_id, payload, settle)
        return len(owed)

    async def _deliver(self, event_id: str, payload: str, settle: tuple[str, str] | None) -> None:
        try:
            await asyncio.sleep(self.behaviour.latency_s)
            if settle is not None and not self._settle(*settle) and self._state.payout_status(settle[0]) != settle[1]:
                self._state.delivered(event_id)  # the payout was canceled meanwhile: nothing to report
                return
            for attempt in range(5):  # Stripe retries failed deliveries (for days; we try a few times)
                headers = {
                    "Stripe-Signature": sign_stripe_payload(payload, self._secret),
                    "Content-Type": "application/json",
                }
                try:
                    response = await self._http.get().post(
                        self._webhook_url, content=payload, headers=headers, timeout=5
                    )
                    if response.status_code < 300:
                        self.delivered.append((payload, headers["Stripe-Signature"]))
                        self._state.delivered(event_id)
                        return
                except httpx.HTTPError as err:
                    log.info("fake payments webhook failed (%s), attempt %d", err, attempt + 1)
                await asyncio.sleep(0.5 * (attempt + 1))
        finally:
            self._in_delivery.discard(event_id)

    async def drain(self) -> None:
        while self._callbacks:
            await asyncio.gather(*list(self._callbacks), return_exceptions=True)
