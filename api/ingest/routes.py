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
from typing import Any

from fastapi import APIRouter, Request
from temporalio.service import RPCError

from api.constrained import PathName
from api.dependencies import Db, Resources
from api.problems import Problem
from services.ingestion import MAX_EVENTS, IngestResult, take_events
from store.repositories import affiliate
from workflows.commission_processes import nudge_distributor

log = logging.getLogger("lendflow.ingest")
router = APIRouter(prefix="/v1/ingest", tags=["client integrations"])


def signature_of(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@router.post("/{project_code}/{integration_name}", response_model=IngestResult)
async def ingest(
    project_code: PathName, integration_name: PathName, request: Request, db: Db, resources: Resources
) -> IngestResult:
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
    result = await take_events(db, project, found, events)
    await nudge_if_realtime(db, resources, project, result)
    return result


async def nudge_if_realtime(db: Db, resources: Resources, project: affiliate.Project, result: IngestResult) -> None:
    """A real-time project's distributor hears of committed events at once (it also looks on its own shortly)."""
    if result.accepted and project.accrual == "realtime":
        await db.commit()
        try:
            await nudge_distributor(await resources.temporal(), resources.settings, project.code)
        except RPCError:
            log.warning("the distributor of %s was not nudged; it looks on its own shortly", project.code)
