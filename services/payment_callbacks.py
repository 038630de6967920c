"""Matching a payment provider's callback to the operation it claims to settle, before anything hears it.

A signature proves the provider sent the event, not that the event is about what its metadata names: a correctly
signed `payout.paid` carrying another payout's id, or another amount, must not settle this one. Every callback that
moves money names an operation of ours; its provider reference (once we know it), amount and currency must be the
operation's, or the callback is refused and nothing is posted."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from providers.payments.protocol import ProviderEvent
from store.repositories import applications, loan_payments, loans, wallet_operations


@dataclass(frozen=True)
class Claimed:
    """What an operation of ours expects its callback to say (reference `None`: not known yet)."""

    reference: str | None
    amount: int
    currency: str


class CallbackMismatch(ValueError):
    """The callback does not describe the operation it names."""


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


async def _claimed(session: AsyncSession, event: ProviderEvent) -> Claimed | None:
    kind, meta = event.metadata.get("kind"), event.metadata
    if kind == "disbursement":
        app_id = _uuid(meta.get("application_id"))
        app = None if app_id is None else await applications.application(session, app_id)
        if app is None or app.offer is None:
            return None
        loan = await loans.loan_for_application(session, app.id)
        reference = loan.disbursement_reference if loan is not None else app.payout_reference
        return Claimed(reference, int(app.offer["principal"]), app.currency)
    if kind == "loan_payment":
        payment_id = _uuid(meta.get("payment_id"))
        payment = None if payment_id is None else await loan_payments.payment(session, payment_id)
        return None if payment is None else Claimed(payment.provider_reference, payment.amount, payment.currency)
    operation_id = _uuid(meta.get("operation_id"))
    op = None if operation_id is None else await wallet_operations.operation(session, operation_id)
    return None if op is None else Claimed(op.provider_reference, op.amount, op.currency)


async def check_callback(session: AsyncSession, event: ProviderEvent) -> None:
    """Returns when the callback matches the operation it names; `CallbackMismatch` says why it does not."""
    claimed = await _claimed(session, event)
    if claimed is None:
        raise CallbackMismatch("the callback names no operation of ours")
    if claimed.reference is not None and claimed.reference != event.object_id:
        raise CallbackMismatch(f"the operation's provider reference is not {event.object_id!r}")
    if event.amount != claimed.amount or event.currency != claimed.currency:
        raise CallbackMismatch(
            f"the callback says {event.amount} {event.currency}; the operation is {claimed.amount} {claimed.currency}"
        )
