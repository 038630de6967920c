"""Stripe-Signature verification with the stripe SDK's own code, shared by the real adapter's webhooks and the
fake's (which signs exactly as Stripe does)."""

from __future__ import annotations

import json

import stripe

from providers.payments.protocol import InvalidSignature, ProviderEvent


class StripeWebhookVerifier:
    def __init__(self, secret: str, tolerance_s: int = 300) -> None:
        self._secret, self._tolerance = secret, tolerance_s

    def verify(self, payload: bytes, signature_header: str | None) -> ProviderEvent:
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature_header, self._secret, self._tolerance
            )
        except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as err:
            raise InvalidSignature(str(err)) from err
        event = json.loads(payload)
        obj = event.get("data", {}).get("object", {})
        failure = (
            obj.get("failure_code")
            or (obj.get("last_payment_error") or {}).get("decline_code")
            or (obj.get("last_payment_error") or {}).get("code")
        )
        return ProviderEvent(
            id=str(event["id"]),
            type=str(event["type"]),
            object_id=str(obj.get("id", "")),
            metadata={str(k): str(v) for k, v in (obj.get("metadata") or {}).items()},
            failure_code=failure,
            payload=event,
            amount=amount if isinstance(amount := obj.get("amount"), int) else None,
            currency=str(obj["currency"]).upper() if obj.get("currency") else None,
        )


def sign_stripe_payload(payload: str, secret: str) -> str:
    """The Stripe-Signature header for a payload (used by the fake provider and the tests)."""
    return str(stripe.WebhookSignature.generate_signature_header(payload, secret))
