"""Linking a card on the payment provider's own page: the borrower's browser goes to the provider, types the card
there, and comes back with a payment method id; lendflow never sees a card number (PCI DSS stays with the
provider). Stripe's page is Checkout in setup mode; in development the fake provider serves a page of Stripe's test
cards (api/dev/card_page.py) that answers the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlencode

import stripe

from providers.payments.protocol import PaymentDeclined, PaymentProviderUnavailable


class CardSetupPage(Protocol):
    async def start(self, reference: str, return_url: str, cancel_url: str) -> str:
        """Where to send the browser: the provider's page for this card, which returns to `return_url`."""
        ...

    async def finish(self, returned: Mapping[str, str]) -> str:
        """The payment method the page set up, from the query the provider returned with."""
        ...


class FakeCardSetupPage:
    """The fake's page is served by the platform itself in development (same host), so its address is a path."""

    async def start(self, reference: str, return_url: str, cancel_url: str) -> str:
        query = urlencode({"reference": reference, "return_url": return_url, "cancel_url": cancel_url})
        return f"/dev/payments/card-setup?{query}"

    async def finish(self, returned: Mapping[str, str]) -> str:
        method = returned.get("payment_method", "")
        if not method.startswith("pm_") or len(method) > 255:
            raise PaymentDeclined("setup_failed", "the provider's page returned no card")
        return method


class StripeCardSetupPage:
    """Checkout Session in `setup` mode; the return URL carries `{CHECKOUT_SESSION_ID}`, which Stripe fills in."""

    def __init__(self, api_key: str, *, api_base: str | None = None) -> None:
        options: dict[str, Any] = {"max_network_retries": 2}
        if api_base:
            options["base_addresses"] = {"api": api_base}
        self._client = stripe.StripeClient(api_key, **options)

    async def start(self, reference: str, return_url: str, cancel_url: str) -> str:
        joiner = "&" if "?" in return_url else "?"
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                {
                    "mode": "setup",
                    "payment_method_types": ["card"],
                    "client_reference_id": reference,
                    "success_url": f"{return_url}{joiner}session_id={{CHECKOUT_SESSION_ID}}",
                    "cancel_url": cancel_url,
                }
            )
        except stripe.StripeError as err:
            raise PaymentProviderUnavailable(str(err)) from err
        return str(session.url)

    async def finish(self, returned: Mapping[str, str]) -> str:
        session_id = returned.get("session_id", "")
        if not session_id.startswith("cs_"):
            raise PaymentDeclined("setup_failed", "the provider's page returned no session")
        try:
            session = await self._client.v1.checkout.sessions.retrieve_async(session_id, {"expand": ["setup_intent"]})
        except stripe.StripeError as err:
            raise PaymentProviderUnavailable(str(err)) from err
        intent = session.setup_intent
        method = getattr(intent, "payment_method", None) if intent is not None else None
        if not method:
            raise PaymentDeclined("setup_failed", "the card was not set up")
        return str(method if isinstance(method, str) else method.id)
