"""Twilio's status callbacks and inbound messages.

Twilio signs the full URL it called plus the sorted form fields; behind a proxy the URL we see differs from the
one Twilio used, so the signature is checked against `LENDFLOW_PUBLIC_BASE_URL` + path + query.
"""

from __future__ import annotations

import contextlib
import uuid
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from temporalio.client import Client
from temporalio.service import RPCError

from api.dependencies import Db, Resources, Temporal
from api.problems import Problem
from contracts.messaging import FINAL_STATUSES, DeliveryStatusReport, message_workflow_id
from providers.messaging.twilio_signature import twilio_signature_is_valid
from store.pii import PiiCipher
from store.repositories import messages
from store.repositories.webhooks import store_event_once

router = APIRouter(prefix="/v1/webhooks/twilio", tags=["provider callbacks"])

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def _signed_form(request: Request, auth_token: str, public_base_url: str) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", errors="replace")
    form = dict(parse_qsl(raw, keep_blank_values=True))
    url = public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    signature = request.headers.get("x-twilio-signature", "")
    if not signature or not twilio_signature_is_valid(auth_token, url, form, signature):
        raise Problem(401, "invalid_signature", "the X-Twilio-Signature header does not match the request")
    return form


@router.post("/status")
async def delivery_status(request: Request, db: Db, resources: Resources, temporal: Temporal) -> Response:
    settings = resources.settings
    form = await _signed_form(request, settings.twilio_auth_token, settings.public_base_url)
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
    try:
        message_id = uuid.UUID(request.query_params.get("message_id", ""))
    except ValueError as err:
        raise Problem(422, "validation_error", "the callback URL carries no valid message_id") from err
    if not sid or not status:
        raise Problem(422, "validation_error", "MessageSid and MessageStatus are required")
    is_new = await store_event_once(
        db,
        provider="twilio",
        event_id=f"{sid}:{status}",
        event_type=f"message.{status}",
        payload=_without_personal_data(form, resources.cipher),
    )
    if not is_new:
        return Response(status_code=204)
    # Recorded here, forward only, in the transaction that keeps the event (an unknown message keeps nothing).
    report = DeliveryStatusReport(status=status, error_code=form.get("ErrorCode") or None)
    try:
        await messages.record_status(db, message_id, report.status, report.error_code)
    except LookupError as err:
        raise Problem(404, "not_found", "no such message") from err
    if status in FINAL_STATUSES and request.query_params.get("followed") == "1":
        # A `MessageDelivery` workflow (the sign-in code's) waits for the final word; the callback URL it asked for
        # says so (signed with the rest). No other message has one to tell.
        await db.commit()
        await _tell_workflow(temporal, message_id, report)
    return Response(status_code=204)


# What a status callback carries about people: the numbers and the text. The rest (sids, status, error code) is kept.
PERSONAL_FIELDS = (
    "To",
    "From",
    "Body",
    "ToCity",
    "ToState",
    "ToZip",
    "ToCountry",
    "FromCity",
    "FromState",
    "FromZip",
    "FromCountry",
)


def _without_personal_data(form: dict[str, str], cipher: PiiCipher) -> dict[str, str]:
    """The callback as stored: phone numbers as keyed lookups (still matchable to a recipient), text left out."""
    kept = {name: value for name, value in form.items() if name not in PERSONAL_FIELDS}
    for name in ("To", "From"):
        if form.get(name):
            kept[f"{name}_lookup"] = cipher.lookup(form[name]).hex()
    return kept


async def _tell_workflow(temporal: Client, message_id: uuid.UUID, report: DeliveryStatusReport) -> None:
    with contextlib.suppress(RPCError):  # the workflow has stopped waiting: the status is recorded all the same
        await temporal.get_workflow_handle(message_workflow_id(str(message_id))).signal("delivery_status", report)


@router.post("/inbound")
async def inbound_message(request: Request, db: Db, resources: Resources) -> Response:
    """Replies from borrowers (STOP, HELP, free text) are kept for staff; Twilio gets an empty TwiML answer."""
    settings = resources.settings
    form = await _signed_form(request, settings.twilio_auth_token, settings.public_base_url)
    sid = form.get("MessageSid", "")
    if not sid:
        raise Problem(422, "validation_error", "MessageSid is required")
    # The sender's number and text are personal data: encrypted before they are stored.
    payload = {
        "from_lookup": resources.cipher.lookup(form.get("From", "")).hex(),
        "body_encrypted": resources.cipher.encrypt(form.get("Body", "")).decode(),
        "from_encrypted": resources.cipher.encrypt(form.get("From", "")).decode(),
    }
    await store_event_once(db, provider="twilio", event_id=sid, event_type="message.inbound", payload=payload)
    return Response(EMPTY_TWIML, media_type="application/xml")
