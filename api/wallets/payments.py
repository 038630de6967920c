"""`POST /v1/topups`, `POST /v1/payouts` and reading them back: money in and out of wallets through the
payment provider, each a workflow that the provider's webhook completes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.constrained import RequestBody
from api.dependencies import CurrentUser, Db, Resources, Temporal
from api.idempotency import Idempotency
from api.money import Amount, PositiveMoney
from api.problems import Problem
from config.task_queues import Family
from contracts.payments import PayoutInput, TopupInput, payout_workflow_id, topup_workflow_id
from store.repositories import wallet_operations as operations
from store.repositories import wallets as wallet_store
from workflows.payments import PayoutWorkflow, TopupWorkflow

router = APIRouter(prefix="/v1", tags=["top-ups and payouts"])


class TopupRequest(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "wallet": "4f0c6c1e-0b7a-4c1d-9a57-1d7f3e0f2a10",
                    "amount": {"amount": 5000, "currency": "USD"},
                    "payment_method": "pm_card_visa",
                }
            ]
        }
    )

    wallet: uuid.UUID
    amount: PositiveMoney
    payment_method: str = Field(min_length=3, max_length=255, description="a provider payment-method id")


class PayoutRequest(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "wallet": "4f0c6c1e-0b7a-4c1d-9a57-1d7f3e0f2a10",
                    "amount": {"amount": 1500, "currency": "USD"},
                    "destination": "ba_1QxYz",
                }
            ]
        }
    )

    wallet: uuid.UUID
    amount: PositiveMoney
    destination: str = Field(min_length=3, max_length=255, description="a provider bank account or card id")


class OperationView(BaseModel):
    id: uuid.UUID
    kind: Literal["topup", "payout"]
    wallet: uuid.UUID
    amount: Amount
    status: str
    failure_code: str | None
    created_at: datetime


def _view(op: operations.WalletOperation) -> OperationView:
    return OperationView(
        id=op.id,
        kind=op.kind,
        wallet=op.wallet_id,
        amount=Amount(amount=op.amount, currency=op.currency),  # type: ignore[arg-type]
        status=op.status,
        failure_code=op.failure_code,
        created_at=op.created_at,
    )


async def _own_wallet(db: Db, wallet_id: uuid.UUID, user_id: uuid.UUID, amount: PositiveMoney) -> wallet_store.Wallet:
    wallet = await wallet_store.wallet_by_id(db, wallet_id)
    if wallet is None or wallet.owner_id != user_id:
        raise Problem(404, "not_found", "no such wallet")
    if amount.currency != wallet.currency:
        raise Problem(422, "validation_error", f"the amount must be in the wallet's currency {wallet.currency}")
    return wallet


@router.post("/topups", status_code=201, response_model=OperationView)
async def top_up(
    body: TopupRequest,
    user: CurrentUser,
    db: Db,
    resources: Resources,
    temporal: Temporal,
    idem: Idempotency,
) -> JSONResponse:
    """Charges the card; the wallet is credited when the provider confirms. A declined card changes no balance."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    wallet = await _own_wallet(db, body.wallet, user.id, body.amount)
    wallet_type = await wallet_store.wallet_type(db, wallet.type_code)
    if wallet_type is None or not wallet_type.topups_allowed:
        raise Problem(422, "validation_error", "this wallet type cannot be topped up")
    op = await operations.record_operation(
        db,
        operation_id=uuid.UUID(idem.operation_id()),
        kind="topup",
        wallet_id=wallet.id,
        owner_id=user.id,
        amount=body.amount.amount,
        currency=body.amount.currency,
        instrument=body.payment_method,
    )
    await db.commit()  # the workflow reads the operation
    await temporal.start_workflow(
        TopupWorkflow.run,
        TopupInput(operation_id=str(op.id), confirm_wait_seconds=resources.settings.topup_confirm_wait_seconds),
        id=topup_workflow_id(str(op.id)),
        task_queue=resources.settings.queue_for(Family.PAYMENTS),
    )
    return await idem.answer(201, _view(op))


@router.post("/payouts", status_code=201, response_model=OperationView)
async def pay_out(
    body: PayoutRequest,
    user: CurrentUser,
    db: Db,
    resources: Resources,
    temporal: Temporal,
    idem: Idempotency,
) -> JSONResponse:
    """Holds the amount, then asks the provider to pay; the hold is posted when the provider confirms and released
    if it fails. Answers once the hold is in place (or refused: `insufficient_funds`)."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    wallet = await _own_wallet(db, body.wallet, user.id, body.amount)
    op = await operations.record_operation(
        db,
        operation_id=uuid.UUID(idem.operation_id()),
        kind="payout",
        wallet_id=wallet.id,
        owner_id=user.id,
        amount=body.amount.amount,
        currency=body.amount.currency,
        instrument=body.destination,
    )
    await db.commit()
    handle = await temporal.start_workflow(
        PayoutWorkflow.run,
        PayoutInput(operation_id=str(op.id), confirm_wait_seconds=resources.settings.payout_confirm_wait_seconds),
        id=payout_workflow_id(str(op.id)),
        task_queue=resources.settings.queue_for(Family.PAYMENTS),
    )
    held = await handle.execute_update(PayoutWorkflow.hold_result)
    if held.failure_code == "insufficient_funds":
        raise Problem(422, "insufficient_funds", "the wallet does not have enough available funds")
    if held.status == "failed":
        raise Problem(422, "validation_error", "payouts are not allowed from this wallet type")
    refreshed = await operations.operation(db, op.id)
    assert refreshed is not None
    return await idem.answer(201, _view(refreshed))


@router.get("/topups/{operation_id}", response_model=OperationView)
@router.get("/payouts/{operation_id}", response_model=OperationView)
async def read_operation(operation_id: uuid.UUID, user: CurrentUser, db: Db) -> OperationView:
    op = await operations.operation(db, operation_id)
    if op is None or op.owner_id != user.id:
        raise Problem(404, "not_found", "no such operation")
    return _view(op)
