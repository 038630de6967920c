"""Taking a client platform's events (pushed JSON or an uploaded CSV file): each event answered on its own —
`accepted`, `duplicate` (its id was taken before; nothing changes) or `refused` with the reason — so a bad event
never costs its neighbours. Registrations carrying a referral code attribute the user to that partner; later events
of the user carry the partner, which is what distribution reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from domain.affiliate.mapping import EventMapping, MappedEvent, client_event_id, map_event
from store.repositories import affiliate

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


async def take_events(
    db: AsyncSession, project: affiliate.Project, integration: affiliate.Integration, events: Sequence[Any]
) -> IngestResult:
    """Each event answered on its own, the whole batch in a few statements (codes, referrals, referrers, one
    insert). The caller commits (JSON push and CSV upload alike) and, for a real-time project, nudges the
    distributor."""
    mapping = EventMapping.from_stored(integration.mapping)
    outcomes: list[EventOutcome | None] = [None] * len(events)
    mapped: list[tuple[int, MappedEvent]] = []
    for index, payload in enumerate(events):
        found = map_event(payload, mapping) if isinstance(payload, dict) else "an event is an object"
        if isinstance(found, str):
            event_id = client_event_id(payload, mapping) if isinstance(payload, dict) else None
            outcomes[index] = EventOutcome(index=index, event_id=event_id, status="refused", reason=found)
        elif found.currency is not None and found.currency != project.currency:
            outcomes[index] = EventOutcome(
                index=index,
                event_id=found.event_id,
                status="refused",
                reason=f"currency {found.currency} is not the project's {project.currency}",
            )
        else:
            mapped.append((index, found))
    # Sent before: duplicates, answered before anything of theirs (a referral code) is looked at.
    before = await affiliate.taken_ids(db, integration.id, [e.event_id for _, e in mapped]) if mapped else set()
    fresh = []
    for index, event in mapped:
        if event.event_id in before:
            outcomes[index] = EventOutcome(index=index, event_id=event.event_id, status="duplicate")
        else:
            fresh.append((index, event))
    mapped = fresh
    codes = sorted({e.referral_code for _, e in mapped if e.kind == "registration" and e.referral_code})
    by_code = await affiliate.partners_by_codes(db, project.id, codes) if codes else {}
    referred, kept = [], []
    for index, event in mapped:
        if event.kind == "registration" and event.referral_code:
            if event.referral_code not in by_code:
                outcomes[index] = EventOutcome(
                    index=index, event_id=event.event_id, status="refused", reason="unknown referral code"
                )
                continue
            referred.append((event.user, by_code[event.referral_code]))
        kept.append((index, event))
    if referred:
        await affiliate.refer(db, project.id, referred)
    known = await affiliate.referrers(db, project.id, sorted({e.user for _, e in kept})) if kept else {}
    incoming: list[tuple[int, affiliate.IncomingEvent]] = []
    seen: set[str] = set()
    for index, event in kept:
        if event.kind != "registration" and event.user not in known:
            outcomes[index] = EventOutcome(
                index=index, event_id=event.event_id, status="refused", reason="unknown user"
            )
        elif event.event_id in seen:  # twice in one request: the second is a duplicate
            outcomes[index] = EventOutcome(index=index, event_id=event.event_id, status="duplicate")
        else:
            seen.add(event.event_id)
            incoming.append(
                (
                    index,
                    affiliate.IncomingEvent(
                        event.event_id,
                        event.kind,
                        event.user,
                        known.get(event.user),
                        event.amount,
                        event.currency,
                        event.occurred_at,
                        event.reverses,
                    ),
                )
            )
    taken = await affiliate.take_events(
        db, project_id=project.id, integration_id=integration.id, events=[e for _, e in incoming]
    )
    for index, e in incoming:
        outcomes[index] = EventOutcome(
            index=index, event_id=e.event_id, status="accepted" if e.event_id in taken else "duplicate"
        )
    answered = [o for o in outcomes if o is not None]
    result = IngestResult(
        accepted=sum(o.status == "accepted" for o in answered),
        duplicates=sum(o.status == "duplicate" for o in answered),
        refused=sum(o.status == "refused" for o in answered),
        events=answered,
    )
    return result
