"""Inputs and results of top-up and payout activities and workflows; imported by workflows, so nothing heavy."""

from __future__ import annotations

from pydantic import BaseModel


class OperationRef(BaseModel):
    operation_id: str


class ProviderOutcome(BaseModel):
    """What the provider has said so far: `processing` (waiting for its callback), `succeeded` / `paid`, `failed`."""

    status: str
    reference: str | None = None
    failure_code: str | None = None


class FailOperation(BaseModel):
    operation_id: str
    failure_code: str


class OperationResult(BaseModel):
    operation_id: str
    status: str
    failure_code: str | None = None
    entry_id: int | None = None


class TopupInput(BaseModel):
    operation_id: str
    confirm_wait_seconds: int = 1800


class PayoutInput(BaseModel):
    operation_id: str
    confirm_wait_seconds: int = 86400


class ProviderSignal(BaseModel):
    """A provider's callback about this operation, relayed by the webhook route."""

    status: str  # succeeded | paid | failed
    reference: str
    failure_code: str | None = None
    event_id: str


# Workflow ids: one per business object, so that a second start finds the running process.
def topup_workflow_id(operation_id: str) -> str:
    return f"topup-{operation_id}"


def payout_workflow_id(operation_id: str) -> str:
    return f"payout-{operation_id}"
