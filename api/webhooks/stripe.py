"""`POST /v1/webhooks/stripe`: verified with the Stripe SDK, stored once per event id, answered at once, then
handed to the top-up, payout, loan application or loan payment workflow the event's metadata names."""

from __future__ import annotations

import contextlib
import logging

from fastapi import APIRouter, Request, Response
from temporalio.service import RPCError

from api.dependencies import Db, Resources, Temporal
from api.problems import Problem
from contracts.origination import DisbursementSignal, application_workflow_id
from contracts.payments import ProviderSignal, payout_workflow_id, topup_workflow_id
from contracts.servicing import PaymentWord, loan_payment_workflow_id
from providers.payments.protocol import InvalidSignature
from providers.payments.stripe_webhooks import StripeWebhookVerifier
from services.payment_callbacks import CallbackMismatch, check_callback
from store.repositories.webhooks import store_event_once

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/webhooks", tags=["provider callbacks"])

OUTCOMES = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "failed",
    "payout.paid": "paid",
    "payout.failed": "failed",
}


@router.post("/stripe")
async def stripe_event(request: Request, db: Db, resources: Resources, temporal: Temporal) -> Response:
    payload = await request.body()
    try:
        event = StripeWebhookVerifier(resources.settings.stripe_webhook_secret).verify(
            payload, request.headers.get("stripe-signature")
        )
    except InvalidSignature as err:
        raise Problem(400, "invalid_signature", "the Stripe-Signature header does not match the payload") from err
    if event.type in OUTCOMES:
        try:
            await check_callback(db, event)
        except CallbackMismatch as mismatch:
            log.warning("stripe event %s refused: %s", event.id, mismatch)
            raise Problem(422, "callback_mismatch", str(mismatch)) from None
    is_new = await store_event_once(
        db, provider="stripe", event_id=event.id, event_type=event.type, payload=event.payload
    )
    await db.commit()
    operation_id, kind = event.metadata.get("operation_id"), event.metadata.get("kind")
    if not is_new or event.type not in OUTCOMES:
        return Response(status_code=200)
    if kind == "disbursement" and (application_id := event.metadata.get("application_id")):
        word = DisbursementSignal(
            status=OUTCOMES[event.type], reference=event.object_id, failure_code=event.failure_code, event_id=event.id
        )
        with contextlib.suppress(RPCError):
            await temporal.get_workflow_handle(application_workflow_id(application_id)).signal("provider_event", word)
        return Response(status_code=200)
    if kind == "loan_payment" and (payment_id := event.metadata.get("payment_id")):
        word = PaymentWord(
            status=OUTCOMES[event.type], reference=event.object_id, failure_code=event.failure_code, event_id=event.id
        )
        with contextlib.suppress(RPCError):
            await temporal.get_workflow_handle(loan_payment_workflow_id(payment_id)).signal("provider_event", word)
        return Response(status_code=200)
    if not operation_id:
        return Response(status_code=200)
    workflow_id = topup_workflow_id(operation_id) if kind == "topup" else payout_workflow_id(operation_id)
    signal = ProviderSignal(
        status=OUTCOMES[event.type], reference=event.object_id, failure_code=event.failure_code, event_id=event.id
    )
    # A workflow that has ended (it stopped waiting) cannot be told; the stored event is the record.
    with contextlib.suppress(RPCError):
        await temporal.get_workflow_handle(workflow_id).signal("provider_event", signal)
    return Response(status_code=200)
