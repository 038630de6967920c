"""Charges and payouts through Stripe on the official SDK (StripeClient, async calls over httpx).

Charges are PaymentIntents confirmed at once with a saved payment method (`off_session`); payouts are Payouts to a
destination (a bank account or card id of the platform's Stripe account). Every call carries an idempotency key, so
a retried activity never charges or pays twice at Stripe.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import stripe

from providers.payments.protocol import (
    ChargeRequest,
    PaymentDeclined,
    PaymentProviderUnavailable,
    PayoutRequest,
    ProviderOperation,
    SavedCard,
)


@contextlib.contextmanager
def _stripe_errors() -> Iterator[None]:
    """Stripe's errors in the Protocol's terms: a refusal retrying cannot change, or an outage it may."""
    try:
        yield
    except stripe.CardError as err:
        code = (err.error.decline_code or err.error.code) if err.error else None
        raise PaymentDeclined(code or "card_declined", err.user_message or str(err)) from err
    except stripe.InvalidRequestError as err:
        raise PaymentDeclined(getattr(err, "code", None) or "invalid_request", str(err)) from err
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as err:
        raise PaymentProviderUnavailable(str(err)) from err


class StripePayments:
    name = "stripe"

    def __init__(self, api_key: str, *, api_base: str | None = None, max_network_retries: int = 2) -> None:
        options: dict[str, Any] = {"max_network_retries": max_network_retries}
        if api_base:
            options["base_addresses"] = {"api": api_base}
        self._client = stripe.StripeClient(api_key, **options)

    async def charge(self, request: ChargeRequest) -> ProviderOperation:
        params: dict[str, Any] = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "payment_method": request.payment_method,
            "confirm": True,
            "off_session": True,
            "metadata": request.metadata,
        }
        if request.customer_reference:
            params["customer"] = request.customer_reference
        with _stripe_errors():
            intent = await self._client.v1.payment_intents.create_async(
                params,
                options={"idempotency_key": request.idempotency_key},  # type: ignore[arg-type]
            )
        return ProviderOperation(self.name, intent.id, intent.status)

    async def payout(self, request: PayoutRequest) -> ProviderOperation:
        params: dict[str, Any] = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "destination": request.destination,
            "metadata": request.metadata,
        }
        with _stripe_errors():
            payout = await self._client.v1.payouts.create_async(
                params,
                options={"idempotency_key": request.idempotency_key},  # type: ignore[arg-type]
            )
        return ProviderOperation(self.name, payout.id, payout.status)

    async def payout_status(self, reference: str) -> ProviderOperation:
        with _stripe_errors():
            payout = await self._client.v1.payouts.retrieve_async(reference)
        return ProviderOperation(self.name, payout.id, payout.status)

    async def cancel_payout(self, reference: str) -> ProviderOperation:
        try:
            with _stripe_errors():
                payout = await self._client.v1.payouts.cancel_async(reference)
        except PaymentDeclined:
            return await self.payout_status(reference)  # no longer pending: paid, failed or already canceled
        return ProviderOperation(self.name, payout.id, payout.status)

    async def save_card(self, payment_method: str, customer_reference: str | None, idempotency_key: str) -> SavedCard:
        """A Customer (once per borrower) with the PaymentMethod attached: what off-session charges need."""
        with _stripe_errors():
            if customer_reference is None:
                customer = await self._client.v1.customers.create_async(
                    {"metadata": {"lendflow_key": idempotency_key}},
                    options={"idempotency_key": f"{idempotency_key}:customer"},  # type: ignore[arg-type]
                )
                customer_reference = customer.id
            method = await self._client.v1.payment_methods.attach_async(
                payment_method,
                {"customer": customer_reference},
                options={"idempotency_key": f"{idempotency_key}:attach"},  # type: ignore[arg-type]
            )
        card = getattr(method, "card", None)
        return SavedCard(
            self.name, method.id, customer_reference, getattr(card, "brand", None), getattr(card, "last4", None)
        )
