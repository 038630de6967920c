"""Staff tools for wallets: wallet types, FX rates, transfers between any two wallets, bulk bonus credits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictInt, model_validator

from api.constrained import MinorUnits, PathName, RequestBody
from api.dependencies import Db, Resources, StaffAudit, StaffWith, Temporal
from api.idempotency import Idempotency
from api.money import CurrencyCode, DecimalString, Money, PositiveMoney
from api.pages import Page
from api.problems import Problem
from api.wallets.schemas import TransferView
from api.wallets.views import transfer_view
from api.workflow_calls import run_workflow
from config.task_queues import Family
from contracts.wallets import BonusCreditInput, BonusCreditResult, MoneyModel, WalletTransferInput
from domain.fx import FxRate
from store.repositories import bonus_batches
from store.repositories import wallets as wallet_store
from workflows.wallet_transfer import BonusCreditWorkflow, WalletTransferWorkflow

router = APIRouter(prefix="/v1/staff", tags=["staff: wallets"])


class WalletTypeBody(RequestBody):
    currencies: list[CurrencyCode] = Field(min_length=1, max_length=50)
    min: Money
    max: Money | None = None
    fee_percent: DecimalString = "0"
    fee_fixed: Money | None = None
    allow_negative: bool = False
    payouts_allowed: bool = True
    topups_allowed: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> WalletTypeBody:
        currencies = {m.currency for m in (self.min, self.max, self.fee_fixed) if m is not None}
        if len(currencies) != 1:
            raise ValueError("min, max and fee_fixed are stated in one currency")
        if self.max is not None and self.max.amount < self.min.amount:
            raise ValueError("max is below min")
        if not Decimal(0) <= Decimal(self.fee_percent) < 100:
            raise ValueError("fee_percent is from 0 up to (not including) 100")
        return self


class WalletTypeView(BaseModel):
    code: str
    currencies: list[str]
    min: Money
    max: Money | None
    fee_percent: str
    fee_fixed: Money
    allow_negative: bool
    payouts_allowed: bool
    topups_allowed: bool


def _type_view(t: wallet_store.WalletType) -> WalletTypeView:
    return WalletTypeView(
        code=t.code,
        currencies=t.currencies,
        min=Money(amount=t.min_amount, currency=t.rules_currency),
        max=None if t.max_amount is None else Money(amount=t.max_amount, currency=t.rules_currency),
        fee_percent=str(t.fee_percent.normalize()),
        fee_fixed=Money(amount=t.fee_fixed, currency=t.rules_currency),
        allow_negative=t.allow_negative,
        payouts_allowed=t.payouts_allowed,
        topups_allowed=t.topups_allowed,
    )


@router.put("/wallet-types/{code}", response_model=WalletTypeView)
async def put_wallet_type(
    code: PathName, body: WalletTypeBody, _: StaffWith("admin"), db: Db, audit: StaffAudit
) -> WalletTypeView:
    if not code.isidentifier() or len(code) > 64:
        raise Problem(422, "validation_error", "a wallet type code is letters, digits and underscores")
    before = await wallet_store.wallet_type(db, code)
    wallet_type = wallet_store.WalletType(
        code=code,
        currencies=sorted(set(body.currencies)),
        rules_currency=body.min.currency,
        min_amount=body.min.amount,
        max_amount=None if body.max is None else body.max.amount,
        fee_percent=Decimal(body.fee_percent),
        fee_fixed=0 if body.fee_fixed is None else body.fee_fixed.amount,
        allow_negative=body.allow_negative,
        payouts_allowed=body.payouts_allowed,
        topups_allowed=body.topups_allowed,
    )
    try:
        async with db.begin_nested():
            await wallet_store.put_wallet_type(db, wallet_type)
    except Exception as err:
        raise Problem(409, "conflict", "a wallet of this type is below zero; it cannot be made strict") from err
    view = _type_view(wallet_type)
    await audit.record(
        "wallet_type.put",
        target_type="wallet_type",
        target_id=code,
        details={
            "before": None if before is None else _type_view(before).model_dump(mode="json"),
            "after": view.model_dump(mode="json"),
        },
    )
    return view


@router.get("/wallet-types", response_model=Page[WalletTypeView])
async def list_wallet_types(_: StaffWith("accountant", "support"), db: Db) -> Page[WalletTypeView]:
    return Page[WalletTypeView](data=[_type_view(t) for t in await wallet_store.wallet_types(db)])


class FxRateBody(RequestBody):
    base: CurrencyCode
    quote: CurrencyCode
    rate: DecimalString
    valid_from: datetime

    @model_validator(mode="after")
    def _valid(self) -> FxRateBody:
        if self.valid_from.tzinfo is None:
            raise ValueError("valid_from needs a time zone")
        FxRate(self.base, self.quote, Decimal(self.rate))  # raises on same currency or non-positive rate
        return self


class FxRateLine(BaseModel):
    base: str
    quote: str
    rate: str
    valid_from: datetime


@router.get("/fx-rates", response_model=Page[FxRateLine])
async def fx_rates(_: StaffWith("accountant", "support"), db: Db) -> Page[FxRateLine]:
    """The rates in force now, one per pair (what transfers convert at)."""
    found = await wallet_store.rates_in_force(db, datetime.now(UTC))
    return Page[FxRateLine](
        data=[
            FxRateLine(base=r.base, quote=r.quote, rate=format(r.rate.normalize(), "f"), valid_from=since)
            for r, since in found
        ]
    )


@router.post("/fx-rates", status_code=201, response_model=FxRateBody)
async def add_fx_rate(body: FxRateBody, _: StaffWith("accountant"), db: Db, audit: StaffAudit) -> FxRateBody:
    await wallet_store.add_fx_rate(db, FxRate(body.base, body.quote, Decimal(body.rate)), body.valid_from)
    await audit.record(
        "fx_rate.add",
        target_type="fx_rate",
        target_id=f"{body.base}/{body.quote}",
        details=body.model_dump(mode="json"),
    )
    return body


class StaffTransferBody(RequestBody):
    from_wallet: uuid.UUID
    to_wallet: uuid.UUID
    amount: PositiveMoney
    reason: str = Field(min_length=3, max_length=500)


@router.post("/transfers", status_code=201, response_model=TransferView)
async def staff_transfer(
    body: StaffTransferBody,
    staff: StaffWith("accountant"),
    db: Db,
    resources: Resources,
    temporal: Temporal,
    audit: StaffAudit,
    idem: Idempotency,
) -> JSONResponse:
    """Between any two wallets, with a reason; no fee or limits, but never beyond what the wallet holds."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    transfer_id = idem.operation_id()
    result = await run_workflow(
        temporal,
        WalletTransferWorkflow.run,
        WalletTransferInput(
            transfer_id=transfer_id,
            from_wallet=str(body.from_wallet),
            to_wallet=str(body.to_wallet),
            amount=MoneyModel(amount=body.amount.amount, currency=body.amount.currency),
            mode="staff",
            initiated_by=str(staff.id),
            reason=body.reason,
        ),
        workflow_id=f"wallet-transfer-{transfer_id}",
        task_queue=resources.settings.queue_for(Family.PAYMENTS),
    )
    view = transfer_view(result)
    await audit.record(
        "wallet.staff_transfer",
        target_type="transfer",
        target_id=transfer_id,
        details={**view.model_dump(mode="json"), "reason": body.reason},
    )
    return await idem.answer(201, view)


class BonusCreditLine(RequestBody):
    wallet_id: uuid.UUID
    amount: MinorUnits | None = None
    points: Annotated[StrictInt, Field(gt=0, le=10**15)] | None = None


class BonusCreditBody(RequestBody):
    currency: CurrencyCode
    points_rate: DecimalString | None = Field(default=None, description="minor units per point")
    reason: str = Field(min_length=3, max_length=500)
    credits: list[BonusCreditLine] = Field(min_length=1, max_length=100_000)

    @model_validator(mode="after")
    def _each_credit_has_a_value(self) -> BonusCreditBody:
        for credit in self.credits:
            if (credit.amount is None) == (credit.points is None):
                raise ValueError("each credit has exactly one of amount and points")
            if credit.points is not None and self.points_rate is None:
                raise ValueError("points need a points_rate")
        if len({c.wallet_id for c in self.credits}) != len(self.credits):
            raise ValueError("a wallet appears twice in one batch")
        return self


@router.post("/bonus-credits", status_code=201, response_model=BonusCreditResult)
async def credit_bonuses(
    body: BonusCreditBody,
    staff: StaffWith("accountant"),
    db: Db,
    resources: Resources,
    temporal: Temporal,
    audit: StaffAudit,
    idem: Idempotency,
) -> JSONResponse:
    """Credits many wallets at once from the company's bonus expense, in one bulk posting."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    batch_id = idem.operation_id()
    # The batch is stored and the workflow carries its id: an input that grew with the batch would pass Temporal's
    # payload limit (2 MB) at about 25,000 credits.
    await bonus_batches.store_batch(
        db,
        uuid.UUID(batch_id),
        currency=body.currency,
        points_rate=Decimal(body.points_rate) if body.points_rate else None,
        reason=body.reason,
        lines=[bonus_batches.BatchLine(c.wallet_id, c.amount, c.points) for c in body.credits],
        created_by=staff.id,
    )
    await db.commit()  # the activity reads the batch
    result = await run_workflow(
        temporal,
        BonusCreditWorkflow.run,
        BonusCreditInput(
            batch_id=batch_id, currency=body.currency, points_rate=body.points_rate, reason=body.reason, stored=True
        ),
        workflow_id=f"bonus-credit-{batch_id}",
        task_queue=resources.settings.queue_for(Family.PAYMENTS),
    )
    await audit.record(
        "wallet.bonus_credit",
        target_type="bonus_batch",
        target_id=batch_id,
        details={**result.model_dump(mode="json"), "reason": body.reason},
    )
    return await idem.answer(201, result)
