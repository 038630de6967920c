"""Inputs and results of the messaging activities; imported by workflows, so nothing heavy here."""

from __future__ import annotations

from pydantic import BaseModel

# Where a message's delivery ends: the provider will not report on it again.
FINAL_STATUSES = frozenset({"delivered", "failed", "undelivered"})


class DeliverMessageInput(BaseModel):
    message_id: str
    # A `MessageDelivery` workflow waits for this message's final status: its status callbacks say so (`followed=1`
    # in the signed callback URL), and only those are signalled; the others are recorded by the webhook alone.
    followed: bool = False


class DeliveryReceipt(BaseModel):
    provider: str
    provider_message_id: str | None
    status: str
    error_code: str | None = None


class RecordStatusInput(BaseModel):
    message_id: str
    status: str
    error_code: str | None = None


class RecordStatusResult(BaseModel):
    status: str


# Workflow ids: one per business object, so that a second start finds the running process.
def message_workflow_id(message_id: str) -> str:
    return f"message-{message_id}"


class MessageDeliveryInput(BaseModel):
    message_id: str
    send_attempts: int = 5
    # How long to wait for the provider to say delivered/undelivered before settling for what we know.
    status_wait_seconds: int = 900


class DeliveryStatusReport(BaseModel):
    status: str
    error_code: str | None = None


class MessageDeliveryResult(BaseModel):
    message_id: str
    status: str
    provider_message_id: str | None = None
    error_code: str | None = None
    confirmed: bool
