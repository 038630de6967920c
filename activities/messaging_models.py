"""Inputs and results of the messaging activities; imported by workflows, so nothing heavy here."""

from __future__ import annotations

from pydantic import BaseModel


class DeliverMessageInput(BaseModel):
    message_id: str


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
