"""What the platform needs from an SMS or e-mail provider, whoever it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

DeliveryStatus = Literal["queued", "sent", "delivered", "failed", "undelivered"]


@dataclass(frozen=True)
class OutgoingSms:
    to: str
    body: str
    # Our message id: the provider's callbacks carry it back so a status finds its message.
    message_id: str
    status_callback_url: str | None = None


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    body: str
    message_id: str


@dataclass(frozen=True)
class ProviderReceipt:
    provider: str
    provider_message_id: str
    status: DeliveryStatus


class RecipientRejected(Exception):
    """The provider will never deliver to this recipient (invalid number, unreachable, opted out).
    Retrying cannot help; the workflow treats it as final."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class ProviderUnavailable(Exception):
    """A transient failure (timeout, 5xx, rate limit): the caller should retry later."""


class SmsSender(Protocol):
    name: str

    async def send_sms(self, message: OutgoingSms) -> ProviderReceipt: ...


class EmailSender(Protocol):
    name: str

    async def send_email(self, message: OutgoingEmail) -> ProviderReceipt: ...
