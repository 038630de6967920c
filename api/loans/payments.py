"""A borrower's payments on a loan: `POST /v1/loans/{id}/repayments`, the extension quote and `POST .../extensions`.
Each charges the card through the payment provider in a `loan-payment-<id>` workflow; the money is applied when
the provider confirms, so the answer is the payment (201), and its allocation shows once settled."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.constrained import RequestBody
from api.dependencies import CurrentUser, Db, Resources, Temporal
from api.idempotency import Idempotency
from api.pages import Page
from api.problems import Problem
from config.task_queues import Family
from contracts.servicing import LoanPaymentInput, loan_payment_workflow_id
from contracts.visibility import attributes
from domain.lending.engine import LoanRuleViolation, extension_quote
from store.repositories import loan_payments, loans, servicing
from store.repositories.servicing import ServicedLoan, engine_events, open_business_date, signed_loan
from workflows.loan_servicing import LoanPaymentWorkflow

router = APIRouter(prefix="/v1/loans", tags=["loans"])


class RepaymentRequest(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"amount": 5000}]})

    amount: int = Field(gt=0, le=10**12, description="minor units of the loan's currency")
    payment_method: str | None = Field(
        default=None, min_length=3, max_length=255, description="a provider payment-method id; default: the loan's card"
    )


class ExtensionRequest(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"days": 7}]})

    days: int = Field(gt=0, le=365)
    payment_method: str | None = Field(default=None, min_length=3, max_length=255)


class PaymentView(BaseModel):
    id: uuid.UUID
    loan_id: uuid.UUID
    purpose: str
    amount: int
    currency: str
    status: str
    failure_code: str | None
    value_date: date | None
    extension_days: int | None
    allocation: dict[str, int] | None = None
    created_at: datetime


class ExtensionQuote(BaseModel):
    days: int
    fee: int
    pay_first: int = Field(description="charges that must be paid with the fee (interest, penalties, fines)")
    total: int
    new_due_date: date
    currency: str


def payment_view(payment: loan_payments.LoanPayment, allocation: dict[str, int] | None = None) -> PaymentView:
    return PaymentView(
        id=payment.id,
        loan_id=payment.loan_id,
        purpose=payment.purpose,
        amount=payment.amount,
        currency=payment.currency,
        status=payment.status,
        failure_code=payment.failure_code,
        value_date=payment.value_date,
        extension_days=payment.extension_days,
        allocation=allocation,
        created_at=payment.created_at,
    )


async def _own_loan(db: Db, loan_id: uuid.UUID, user_id: uuid.UUID) -> ServicedLoan:
    loan = await servicing.serviced_loan(db, loan_id)
    if loan is None or loan.user_id != user_id:
        raise Problem(404, "not_found", "no such loan")
    return loan


async def _card(db: Db, loan: ServicedLoan, payment_method: str | None) -> tuple[str, str | None]:
    card = await loans.card(db, loan.card_id) if loan.card_id else None
    if payment_method is not None:
        same = card is not None and card.payment_method == payment_method
        return payment_method, card.customer_reference if same and card else None
    if card is None:
        raise Problem(422, "validation_error", "the loan has no card: name a payment_method")
    return card.payment_method, card.customer_reference


async def quote_extension(db: Db, loan: ServicedLoan, days: int, timezone: str) -> ExtensionQuote:
    today = await open_business_date(db, timezone)
    signed = signed_loan(loan)
    history = engine_events(await servicing.loan_events(db, loan.id))
    try:
        fee, new_due, pay_first = extension_quote(signed, history, today, days)
    except LoanRuleViolation as refused:
        raise Problem(422, "extension_refused", str(refused)) from None
    return ExtensionQuote(
        days=days, fee=fee, pay_first=pay_first, total=fee + pay_first, new_due_date=new_due, currency=loan.currency
    )


async def _start_payment(
    db: Db,
    temporal: Temporal,
    resources: Resources,
    idem: Idempotency,
    loan: ServicedLoan,
    *,
    purpose: str,
    amount: int,
    payment_method: str | None,
    user_id: uuid.UUID,
    extension_days: int | None = None,
) -> JSONResponse:
    method, customer = await _card(db, loan, payment_method)
    payment = await loan_payments.create_payment(
        db,
        loan_id=loan.id,
        purpose=purpose,
        amount=amount,
        currency=loan.currency,
        payment_method=method,
        customer_reference=customer,
        extension_days=extension_days,
        requested_by=user_id,
        payment_id=uuid.UUID(idem.operation_id()),
    )
    await db.commit()  # the workflow reads the payment
    await temporal.start_workflow(
        LoanPaymentWorkflow.run,
        LoanPaymentInput(
            payment_id=str(payment.id),
            loan_id=str(loan.id),
            confirm_wait_seconds=resources.settings.loan_payment_confirm_wait_seconds,
        ),
        id=loan_payment_workflow_id(str(payment.id)),
        task_queue=resources.settings.queue_for(Family.SERVICING),
        search_attributes=attributes(loan_id=str(loan.id), customer_id=str(loan.user_id)),
    )
    return await idem.answer(201, payment_view(payment))


@router.post("/{loan_id}/repayments", status_code=201, response_model=PaymentView)
async def repay(
    loan_id: uuid.UUID,
    body: RepaymentRequest,
    user: CurrentUser,
    db: Db,
    resources: Resources,
    temporal: Temporal,
    idem: Idempotency,
) -> JSONResponse:
    """Partial repayments are welcome; what is paid beyond the loan goes to the borrower's wallet; money paid on a
    written-off loan is a recovery."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    loan = await _own_loan(db, loan_id, user.id)
    if loan.status == "repaid":  # a written-off loan still takes money: it is a recovery
        raise Problem(409, "conflict", "the loan is repaid")
    return await _start_payment(
        db,
        temporal,
        resources,
        idem,
        loan,
        purpose="repayment",
        amount=body.amount,
        payment_method=body.payment_method,
        user_id=user.id,
    )


@router.get("/{loan_id}/extension-quote", response_model=ExtensionQuote)
async def extension_price(
    loan_id: uuid.UUID, user: CurrentUser, db: Db, resources: Resources, days: int = Query(gt=0, le=365)
) -> ExtensionQuote:
    loan = await _own_loan(db, loan_id, user.id)
    if loan.status not in ("active", "overdue"):
        raise Problem(409, "conflict", f"the loan is {loan.status}")
    return await quote_extension(db, loan, days, resources.settings.market_timezone)


@router.post("/{loan_id}/extensions", status_code=201, response_model=PaymentView)
async def extend(
    loan_id: uuid.UUID,
    body: ExtensionRequest,
    user: CurrentUser,
    db: Db,
    resources: Resources,
    temporal: Temporal,
    idem: Idempotency,
) -> JSONResponse:
    """Charges the quoted price; the new due date holds once the provider confirms. Refused (422) when the product
    allows no such extension, before any card is charged."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    loan = await _own_loan(db, loan_id, user.id)
    if loan.status not in ("active", "overdue"):
        raise Problem(409, "conflict", f"the loan is {loan.status}")
    quote = await quote_extension(db, loan, body.days, resources.settings.market_timezone)
    return await _start_payment(
        db,
        temporal,
        resources,
        idem,
        loan,
        purpose="extension",
        amount=quote.total,
        payment_method=body.payment_method,
        user_id=user.id,
        extension_days=body.days,
    )


@router.get("/{loan_id}/payments", response_model=Page[PaymentView])
async def payments(loan_id: uuid.UUID, user: CurrentUser, db: Db) -> Page[PaymentView]:
    loan = await _own_loan(db, loan_id, user.id)
    return Page[PaymentView](data=[await _with_allocation(db, p) for p in await loan_payments.payments_of(db, loan.id)])


@router.get("/{loan_id}/payments/{payment_id}", response_model=PaymentView)
async def one_payment(loan_id: uuid.UUID, payment_id: uuid.UUID, user: CurrentUser, db: Db) -> PaymentView:
    loan = await _own_loan(db, loan_id, user.id)
    payment = await loan_payments.payment(db, payment_id)
    if payment is None or payment.loan_id != loan.id:
        raise Problem(404, "not_found", "no such payment")
    return await _with_allocation(db, payment)


async def _with_allocation(db: Db, payment: loan_payments.LoanPayment) -> PaymentView:
    """Once settled: what the payment's entry did to each of the loan's components (positive: paid off)."""
    event = await servicing.event_by_reference(db, f"payment:{payment.id}")
    if event is None or event.entry_id is None:
        return payment_view(payment)
    allocation: dict[str, Any] = await servicing.entry_allocation(db, event.entry_id)
    return payment_view(payment, allocation)
