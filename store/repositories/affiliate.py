"""Projects, partners and their terms. The partner tree is stored with each partner's path from the root, so the
upline of a referring partner is its path reversed, and a network is one index lookup."""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.affiliate.terms import PartnerTerms


@dataclass(frozen=True)
class Project:
    id: uuid.UUID
    code: str
    name: str
    currency: str
    revenue: str
    registration_amount: int
    level_shares: list[Decimal]
    points_per_unit: Decimal
    point_value: Decimal
    accrual: str
    period: str
    network_version: int = 0  # moves so far: a distributor's cached lines are stale when it changed
    payouts_at_close: bool = False
    site_url: str | None = None  # where a partner's referral link points (`?ref=<code>` is added)


_PROJECT = (
    "id, code, name, currency, revenue, registration_amount, level_shares, points_per_unit, point_value,"
    " accrual, period, network_version, payouts_at_close, site_url"
)


def _project(row: Any) -> Project:
    m = dict(row._mapping)
    return Project(**{**m, "currency": m["currency"].strip(), "level_shares": list(m["level_shares"])})


async def add_project(session: AsyncSession, **values: Any) -> Project | None:
    """None when the code is taken."""
    row = (
        await session.execute(
            text(
                f"INSERT INTO projects ({_PROJECT}) VALUES (:id, :code, :name, :currency, :revenue,"
                " :registration_amount, :level_shares, :points_per_unit, :point_value, :accrual, :period, 0,"
                " :payouts_at_close, :site_url)"
                f" ON CONFLICT (code) DO NOTHING RETURNING {_PROJECT}"
            ),
            {"id": uuid.uuid4(), "payouts_at_close": False, "site_url": None, **values},
        )
    ).one_or_none()
    return None if row is None else _project(row)


async def project_by_code(session: AsyncSession, code: str) -> Project | None:
    row = (await session.execute(text(f"SELECT {_PROJECT} FROM projects WHERE code = :c"), {"c": code})).one_or_none()
    return None if row is None else _project(row)


async def projects(session: AsyncSession) -> list[Project]:
    return [_project(r) for r in await session.execute(text(f"SELECT {_PROJECT} FROM projects ORDER BY code"))]


@dataclass(frozen=True)
class Partner:
    id: uuid.UUID
    project_id: uuid.UUID
    user_id: uuid.UUID
    sponsor_id: uuid.UUID | None
    name: str
    referral_code: str
    depth: int
    path: list[uuid.UUID]
    created_at: datetime


_PARTNER = "id, project_id, user_id, sponsor_id, name, referral_code, depth, path, created_at"


def _partner(row: Any) -> Partner:
    m = dict(row._mapping)
    return Partner(**{**m, "path": list(m["path"])})


async def add_partner(
    session: AsyncSession, *, project_id: uuid.UUID, user_id: uuid.UUID, sponsor: Partner | None, name: str
) -> Partner | None:
    """None when the user is already a partner in this project."""
    partner_id = uuid.uuid4()
    path = [*(sponsor.path if sponsor else []), partner_id]
    row = (
        await session.execute(
            text(
                f"INSERT INTO partners ({_PARTNER.replace(', created_at', '')}) VALUES (:id, :project, :user,"
                " :sponsor, :name, :code, :depth, :path) ON CONFLICT (project_id, user_id) DO NOTHING"
                f" RETURNING {_PARTNER}"
            ),
            {
                "id": partner_id,
                "project": project_id,
                "user": user_id,
                "sponsor": sponsor.id if sponsor else None,
                "name": name,
                "code": secrets.token_urlsafe(6).replace("-", "x").replace("_", "y").upper(),
                "depth": len(path) - 1,
                "path": path,
            },
        )
    ).one_or_none()
    if row is None:
        return None
    await session.execute(
        text("INSERT INTO partner_paths (partner_id, valid_from, path) VALUES (:id, '1970-01-01 00:00:00+00', :path)"),
        {"id": partner_id, "path": path},
    )
    return _partner(row)


async def set_payout_destination(session: AsyncSession, user_id: uuid.UUID, destination: str) -> int:
    """Where the user's commissions are paid at a period's close, in every project they partner in."""
    result = await session.execute(
        text("UPDATE partners SET payout_destination = :d WHERE user_id = :u"), {"d": destination, "u": user_id}
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def payout_destination_of(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    found = await session.scalar(
        text("SELECT payout_destination FROM partners WHERE user_id = :u AND payout_destination IS NOT NULL LIMIT 1"),
        {"u": user_id},
    )
    return None if found is None else str(found)


class MoveRefused(ValueError):
    pass


async def move_partner(
    session: AsyncSession, moved: Partner, sponsor: Partner, valid_from: datetime
) -> list[uuid.UUID]:
    """The partner and everyone below it take new paths under `sponsor` from `valid_from` (events before keep the
    old line). Refused under the partner's own network, and before a later move in that network (moves are
    recorded in time order). Answers the partner's old path."""
    if moved.id in sponsor.path:
        raise MoveRefused("a partner cannot be moved under itself or its own network")
    later = await session.scalar(
        text(
            "SELECT count(*) FROM partner_paths h JOIN partners m ON m.id = h.partner_id"
            " WHERE m.path @> ARRAY[CAST(:p AS uuid)] AND h.valid_from >= :from"
        ),
        {"p": moved.id, "from": valid_from},
    )
    if later:
        raise MoveRefused("this network has a move dated on or after that date; record moves in time order")
    params = {
        "p": moved.id,
        "prefix": sponsor.path,
        "from": valid_from,
        "sponsor": sponsor.id,
        "cut": len(moved.path),
        "shift": sponsor.depth + 1 - moved.depth,
    }
    await session.execute(
        text(
            "UPDATE partners m SET path = CAST(:prefix AS uuid[]) || m.path[CAST(:cut AS int):], depth = m.depth + :shift,"
            " sponsor_id = CASE WHEN m.id = :p THEN :sponsor ELSE m.sponsor_id END"
            " WHERE m.path @> ARRAY[CAST(:p AS uuid)]"
        ),
        params,
    )
    await session.execute(
        text(
            "INSERT INTO partner_paths (partner_id, valid_from, path) SELECT id, :from, path FROM partners"
            " WHERE path @> ARRAY[CAST(:p AS uuid)]"
        ),
        params,
    )
    await session.execute(
        text("UPDATE projects SET network_version = network_version + 1 WHERE id = :project"),
        {"project": moved.project_id},
    )
    return moved.path


async def partner(session: AsyncSession, partner_id: uuid.UUID) -> Partner | None:
    row = (
        await session.execute(text(f"SELECT {_PARTNER} FROM partners WHERE id = :id"), {"id": partner_id})
    ).one_or_none()
    return None if row is None else _partner(row)


async def partners_of_user(session: AsyncSession, user_id: uuid.UUID) -> list[Partner]:
    rows = await session.execute(
        text(f"SELECT {_PARTNER} FROM partners WHERE user_id = :u ORDER BY created_at"), {"u": user_id}
    )
    return [_partner(r) for r in rows]


async def network(session: AsyncSession, partner_id: uuid.UUID, max_depth: int) -> list[Partner]:
    """Everyone below the partner, up to `max_depth` levels down, nearest first."""
    rows = await session.execute(
        text(
            f"SELECT {_PARTNER} FROM partners WHERE path @> ARRAY[CAST(:id AS uuid)] AND id <> :id"
            " AND depth <= (SELECT depth FROM partners WHERE id = :id) + :max ORDER BY depth, created_at"
        ),
        {"id": partner_id, "max": max_depth},
    )
    return [_partner(r) for r in rows]


def upline(referrer: Partner) -> list[uuid.UUID]:
    """The referring partner first, then its sponsor, up to the root."""
    return list(reversed(referrer.path))


async def add_terms(
    session: AsyncSession,
    *,
    partner_id: uuid.UUID,
    level_shares: list[Decimal],
    valid_from: datetime,
    valid_to: datetime | None,
    recorded_by: uuid.UUID | None,
) -> int:
    found = await session.scalar(
        text(
            "INSERT INTO partner_terms (partner_id, level_shares, valid_from, valid_to, recorded_by) VALUES"
            " (:p, :shares, :from, :to, :by) RETURNING id"
        ),
        {"p": partner_id, "shares": level_shares, "from": valid_from, "to": valid_to, "by": recorded_by},
    )
    return int(found or 0)


async def terms_history(
    session: AsyncSession | AsyncConnection,
    *,
    project_id: uuid.UUID | None = None,
    partner_ids: list[uuid.UUID] | None = None,
) -> list[PartnerTerms]:
    """Every terms record of these partners, or of all the project's partners (few: most follow the plan)."""
    rows = await session.execute(
        text(
            "SELECT t.partner_id, t.level_shares, t.valid_from, t.valid_to, t.recorded_at FROM partner_terms t"
            " JOIN partners p ON p.id = t.partner_id WHERE (CAST(:project AS uuid) IS NULL OR p.project_id = :project)"
            " AND (CAST(:ids AS uuid[]) IS NULL OR t.partner_id = ANY(:ids)) ORDER BY t.recorded_at, t.id"
        ),
        {"project": project_id, "ids": partner_ids},
    )
    return [PartnerTerms(str(p), tuple(shares), start, end, recorded) for p, shares, start, end, recorded in rows]


@dataclass(frozen=True)
class Integration:
    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    format: str
    mapping: dict[str, Any]
    secret_encrypted: bytes


def _integration(row: Row[Any]) -> Integration:
    fields = row._mapping
    return Integration(
        fields["id"],
        fields["project_id"],
        fields["name"],
        fields["format"],
        fields["mapping"],
        bytes(fields["secret_encrypted"]),
    )


async def add_integration(
    session: AsyncSession,
    *,
    project_id: uuid.UUID,
    name: str,
    format: str,
    mapping: dict[str, Any],
    secret_encrypted: bytes,
) -> Integration | None:
    row = (
        await session.execute(
            text(
                "INSERT INTO integrations (id, project_id, name, format, mapping, secret_encrypted) VALUES (:id, :p,"
                " :name, :format, CAST(:mapping AS jsonb), :secret) ON CONFLICT (project_id, name) DO NOTHING"
                " RETURNING id, project_id, name, format, mapping, secret_encrypted"
            ),
            {
                "id": uuid.uuid4(),
                "p": project_id,
                "name": name,
                "format": format,
                "mapping": json.dumps(mapping),
                "secret": secret_encrypted,
            },
        )
    ).one_or_none()
    return None if row is None else _integration(row)


async def integration(session: AsyncSession, project_id: uuid.UUID, name: str) -> Integration | None:
    row = (
        await session.execute(
            text(
                "SELECT id, project_id, name, format, mapping, secret_encrypted FROM integrations"
                " WHERE project_id = :p AND name = :name"
            ),
            {"p": project_id, "name": name},
        )
    ).one_or_none()
    return None if row is None else _integration(row)


async def partners_by_codes(session: AsyncSession, project_id: uuid.UUID, codes: list[str]) -> dict[str, uuid.UUID]:
    rows = await session.execute(
        text("SELECT referral_code, id FROM partners WHERE project_id = :p AND referral_code = ANY(:codes)"),
        {"p": project_id, "codes": codes},
    )
    return {code: partner_id for code, partner_id in rows}


async def refer(session: AsyncSession, project_id: uuid.UUID, referred: list[tuple[str, uuid.UUID]]) -> None:
    """(user, partner) pairs: a user's first referral counts; a later one (in this call or after) moves nobody."""
    first: dict[str, uuid.UUID] = {}
    for user_ref, partner_id in referred:
        first.setdefault(user_ref, partner_id)
    await session.execute(
        text(
            "INSERT INTO referrals (project_id, user_ref, partner_id) SELECT :p, u, partner FROM"
            " unnest(CAST(:users AS text[]), CAST(:partners AS uuid[])) AS r(u, partner) ON CONFLICT DO NOTHING"
        ),
        {"p": project_id, "users": list(first), "partners": list(first.values())},
    )


async def referrers(session: AsyncSession, project_id: uuid.UUID, user_refs: list[str]) -> dict[str, uuid.UUID]:
    rows = await session.execute(
        text("SELECT user_ref, partner_id FROM referrals WHERE project_id = :p AND user_ref = ANY(:users)"),
        {"p": project_id, "users": user_refs},
    )
    return {user_ref: partner_id for user_ref, partner_id in rows}


async def taken_ids(session: AsyncSession, integration_id: uuid.UUID, event_ids: list[str]) -> set[str]:
    """Which of these client ids the integration sent before."""
    rows = await session.execute(
        text("SELECT client_event_id FROM affiliate_events WHERE integration_id = :i AND client_event_id = ANY(:ids)"),
        {"i": integration_id, "ids": event_ids},
    )
    return {event_id for (event_id,) in rows}


@dataclass(frozen=True)
class IncomingEvent:
    event_id: str  # the client's
    kind: str
    user_ref: str
    partner_id: uuid.UUID | None
    amount: int
    currency: str | None
    occurred_at: datetime
    reverses: str | None


async def take_events(
    session: AsyncSession, *, project_id: uuid.UUID, integration_id: uuid.UUID, events: list[IncomingEvent]
) -> set[str]:
    """Records the events whose client id is new (and queues them for distribution), in one statement; answers
    the client ids taken now. The others were sent before: a duplicate changes nothing."""
    if not events:
        return set()
    rows = await session.execute(
        text(
            """
            WITH taken AS (
                INSERT INTO affiliate_events (project_id, integration_id, client_event_id, kind, user_ref, partner_id,
                                              amount, currency, occurred_at, reverses_client_event_id)
                SELECT :p, :i, e.id, e.kind, e.u, e.partner, e.amount, e.currency, e.at, e.reverses
                FROM unnest(CAST(:ids AS text[]), CAST(:kinds AS text[]), CAST(:users AS text[]),
                            CAST(:partners AS uuid[]), CAST(:amounts AS bigint[]), CAST(:currencies AS text[]),
                            CAST(:ats AS timestamptz[]), CAST(:reverses AS text[]))
                     WITH ORDINALITY AS e(id, kind, u, partner, amount, currency, at, reverses, n)
                ORDER BY e.n
                ON CONFLICT (integration_id, client_event_id) DO NOTHING
                RETURNING id, project_id, occurred_at, client_event_id, reverses_client_event_id
            ), queued AS (
                -- The lane: see migration 0019 (a reversal waits in its original's lane).
                INSERT INTO affiliate_event_queue (project_id, event_id, occurred_at, lane)
                SELECT project_id, id, occurred_at,
                       affiliate_event_lane(:i, client_event_id, reverses_client_event_id)
                FROM taken
            )
            SELECT client_event_id FROM taken
            """
        ),
        {
            "p": project_id,
            "i": integration_id,
            "ids": [e.event_id for e in events],
            "kinds": [e.kind for e in events],
            "users": [e.user_ref for e in events],
            "partners": [e.partner_id for e in events],
            "amounts": [e.amount for e in events],
            "currencies": [e.currency for e in events],
            "ats": [e.occurred_at for e in events],
            "reverses": [e.reverses for e in events],
        },
    )
    return {event_id for (event_id,) in rows}


async def partners_of_project(session: AsyncSession, project_id: uuid.UUID, limit: int = 5_000) -> list[Partner]:
    """The project's network, roots first and each level in order of joining: enough to draw the tree."""
    rows = await session.execute(
        text(f"SELECT {_PARTNER} FROM partners WHERE project_id = :p ORDER BY depth, created_at LIMIT :limit"),
        {"p": project_id, "limit": limit},
    )
    return [_partner(r) for r in rows]
