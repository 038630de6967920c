"""`POST /v1/webhooks/bureau/{provider}`: a bureau's or scoring provider's callback, signed with an HMAC of the
body (providers/credit/signature.py), stored once per event id, answered at once, then handed to the application's
workflow. A replay answers 200 and changes nothing."""

from __future__ import annotations

import contextlib
import json

from fastapi import APIRouter, Request, Response
from temporalio.service import RPCError

from api.constrained import PathName
from api.dependencies import Db, Resources, Temporal
from api.problems import Problem
from contracts.origination import ScoreSignal, application_workflow_id
from providers.credit.protocol import InvalidSignature
from providers.credit.signature import verify_body
from store.repositories.webhooks import store_event_once

router = APIRouter(prefix="/v1/webhooks", tags=["provider callbacks"])


@router.post("/bureau/{provider}")
async def credit_event(
    provider: PathName, request: Request, db: Db, resources: Resources, temporal: Temporal
) -> Response:
    settings = resources.settings
    known = {settings.scoring_name, *(bureau.name for bureau in settings.bureaus)}
    if provider not in known:
        raise Problem(404, "not_found", f"no credit provider {provider!r} is configured")
    payload = await request.body()
    try:
        verify_body(settings.credit_webhook_secret, payload, request.headers.get("x-signature"))
    except InvalidSignature as err:
        raise Problem(400, "invalid_signature", "the X-Signature header does not match the body") from err
    try:
        event = json.loads(payload)
        event_id, event_type = str(event["id"]), str(event.get("type", "score.completed"))
        application_id, reference = str(event["application_id"]), str(event["reference"])
        score = event.get("score")
        if score is not None and not isinstance(score, int):
            raise TypeError("score must be an integer")
    except (ValueError, KeyError, TypeError) as err:
        raise Problem(422, "validation_error", f"not a callback this endpoint understands: {err}") from None
    is_new = await store_event_once(db, provider=provider, event_id=event_id, event_type=event_type, payload=event)
    await db.commit()
    if is_new and provider == settings.scoring_name:
        word = ScoreSignal(provider=provider, reference=reference, score=score, event_id=event_id)
        # A workflow that stopped waiting cannot be told; the stored event is the record.
        with contextlib.suppress(RPCError):
            await temporal.get_workflow_handle(application_workflow_id(application_id)).signal("score_received", word)
    return Response(status_code=200)
