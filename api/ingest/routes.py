"""`POST /v1/ingest/{project}/{integration}`: a client platform's events in its own JSON shape, signed with
`X-Signature: sha256=<hex HMAC-SHA256 of the body>` under the integration's secret. The body is one event, a list,
or an object whose `events` holds the list. Each event is answered on its own: `accepted`, `duplicate` (its id was
taken before; nothing changes) or `refused` with the reason — a bad event never costs its neighbours.

Registrations carrying a referral code attribute the user to that partner; later events of the user carry the
partner, which is what distribution reads. A refund or chargeback may name the event it takes back (`reverses`).
Staff upload CSV files through the same rules (api/ingest/uploads.py)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from temporalio.service import RPCError

from api.dependencies import Db, Resources
from api.problems import Problem
from domain.affiliate.mapping import EventMapping, MappedEvent, client_event_id, map_event
from store.repositories import affiliate
from workflows.commission_processes import nudge_distributor

log = logging.getLogger("lendflow.ingest")
router = APIRouter(prefix="/v1/ingest", tags=["client integrations"])
MAX_EVENTS = 10_000


class EventOutcome(BaseModel):
    index: int
    event_id: str | None
    status: Literal["accepted", "duplicate", "refused"]
    reason: str | None = None


class IngestResult(BaseModel):
    accepted: int
    duplicates: int
    refused: int
    events: list[EventOutcome]


def signature_of(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@router.post("/{project_code}/{integration_name}", response_model=IngestResult)
async def ingest(project_code: str, integration_name: str, request: Request, db: Db,
                 resources: Resources) -> IngestResult:  # fmt: skip
    project = await affiliate.project_by_code(db, project_code)
    found = await affiliate.integration(db, project.id, integration_name) if project else None
    if project is None or found is None or found.format != "json":
        raise Problem(404, "not_found", "no such JSON integration")
    body = await request.body()
    secret = resources.cipher.decrypt(found.secret_encrypted)
    if not hmac.compare_digest(signature_of(secret, body), request.headers.get("x-signature", "")):
        raise Problem(401, "invalid_signature", "X-Signature does not match the body")
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        raise Problem(422, "validation_error", "the body is not JSON") from None
    events = parsed.get("events") if isinstance(parsed, dict) and "events" in parsed else parsed
    events = events if isinstance(events, list) else [events]
    if len(events) > MAX_EVENTS:
        raise Problem(422, "validation_error", f"at most {MAX_EVENTS} events per request")
    return await take_events(db, resources, project, found, events)


async def take_events(db: Db, resources: Resources, project: affiliate.Project, integration: affiliate.Integration,
                      events: list[Any]) -> IngestResult:  # fmt: skip
    """Each event answered on its own; a real-time project's distributor is nudged once they are committed."""
    mapping = EventMapping.from_stored(integration.mapping)
    outcomes: list[EventOutcome] = []
    for index, payload in enumerate(events):
        mapped = map_event(payload, mapping) if isinstance(payload, dict) else "an event is an object"
        if isinstance(mapped, str):
            event_id = client_event_id(payload, mapping) if isinstance(payload, dict) else None
            outcomes.append(EventOutcome(index=index, event_id=event_id, status="refused", reason=mapped))
            continue
        outcomes.append(await _take(db, project, integration, index, mapped))
    result = IngestResult(accepted=sum(o.status == "accepted" for o in outcomes),
                          duplicates=sum(o.status == "duplicate" for o in outcomes),
                          refused=sum(o.status == "refused" for o in outcomes), events=outcomes)  # fmt: skip
    if result.accepted and project.accrual == "realtime":
        await db.commit()
        try:
            settings = resources.settings
            await nudge_distributor(
                await resources.temporal(), project=project.code, task_queue=settings.main_task_queue,
                batch_size=settings.commission_batch_size, realtime_wait_seconds=settings.commission_realtime_wait_seconds,
            )  # fmt: skip
        except RPCError:
            log.warning("the distributor of %s was not nudged; it looks on its own shortly", project.code)
    return result


async def _take(db: Db, project: affiliate.Project, integration: affiliate.Integration, index: int,
                event: MappedEvent) -> EventOutcome:  # fmt: skip
    if event.currency is not None and event.currency != project.currency:
        return EventOutcome(index=index, event_id=event.event_id, status="refused",
                            reason=f"currency {event.currency} is not the project's {project.currency}")  # fmt: skip
    if event.kind == "registration" and event.referral_code:
        partner = await affiliate.partner_by_code(db, project.id, event.referral_code)
        if partner is None:
            return EventOutcome(index=index, event_id=event.event_id, status="refused", reason="unknown referral code")
        await affiliate.refer(db, project.id, event.user, partner.id)
    partner_id = await affiliate.referrer(db, project.id, event.user)
    if partner_id is None and event.kind != "registration":
        return EventOutcome(index=index, event_id=event.event_id, status="refused", reason="unknown user")
    taken = await affiliate.take_event(
        db, project_id=project.id, integration_id=integration.id, event_id=event.event_id, kind=event.kind,
        user_ref=event.user, partner_id=partner_id, amount=event.amount, currency=event.currency,
        occurred_at=event.occurred_at, reverses=event.reverses,
    )  # fmt: skip
    return EventOutcome(index=index, event_id=event.event_id, status="accepted" if taken else "duplicate")
