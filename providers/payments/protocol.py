"""What the platform needs from a payment provider: charge a saved card, pay out to a destination, and read the
provider's signed callbacks. Amounts are integer minor units; currencies are ISO 4217 codes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ChargeRequest:
    amount: int
    currency: str
    payment_method: str
    idempotency_key: str
    metadata: dict[str, str] = field(default_factory=dict)
    customer_reference: str | None = None  # a saved card is charged as its customer's, without the borrower present


@dataclass(frozen=True)
class PayoutRequest:
    amount: int
    currency: str
    destination: str
    idempotency_key: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderOperation:
    provider: str
    reference: str  # pi_..., po_...
    status: str  # the provider's status: succeeded, processing, pending, paid, failed, ...


@dataclass(frozen=True)
class SavedCard:
    """A payment method attached to the provider's customer, so it can be charged later without the borrower."""

    provider: str
    payment_method: str
    customer_reference: str
    brand: str | None = None
    last4: str | None = None


@dataclass(frozen=True)
class ProviderEvent:
    id: str
    type: str
    object_id: str
    metadata: dict[str, str]
    failure_code: str | None
    payload: dict[str, Any]
    amount: int | None = None  # minor units, as the provider states them on the object
    currency: str | None = None  # upper-case ISO 4217


class PaymentDeclined(Exception):
    """The provider refused for good (card declined, invalid destination): retrying cannot help."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class PaymentProviderUnavailable(Exception):
    """A transient failure: retry later with the same idempotency key."""


class InvalidSignature(Exception):
    pass


class PaymentProvider(Protocol):
    name: str

    async def charge(self, request: ChargeRequest) -> ProviderOperation: ...

    async def payout(self, request: PayoutRequest) -> ProviderOperation: ...

    async def payout_status(self, reference: str) -> ProviderOperation:
        """What became of a payout whose callback never came."""
        ...

    async def cancel_payout(self, reference: str) -> ProviderOperation:
        """Cancel a payout still pending; one already paid or failed answers its final status instead."""
        ...

    async def save_card(self, payment_method: str, customer_reference: str | None, idempotency_key: str) -> SavedCard:
        """Attach the payment method to a customer (created when `customer_reference` is None)."""
        ...


class WebhookVerifier(Protocol):
    def verify(self, payload: bytes, signature_header: str | None) -> ProviderEvent: ...
