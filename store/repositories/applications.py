"""Loan applications: what was asked, by whom (personal data encrypted), and where the process stands.

The workflow is the system of record for the process; this row is its read model, written by the workflow's
activities, so staff queues and the borrower's view are plain queries."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from store.pii import PiiCipher

# A status only moves on from these; a final one never changes again (a late activity retry cannot reopen it).
FINAL = ("rejected", "disbursed", "cancelled", "expired", "failed")


@dataclass(frozen=True)
class Applicant:
    full_name: str
    national_id: str
    birth_date: date
    phone: str
    email: str | None


@dataclass(frozen=True)
class Application:
    id: uuid.UUID
    user_id: uuid.UUID
    product_id: uuid.UUID
    product_version_id: uuid.UUID
    principal: int
    term_days: int
    currency: str
    monthly_income: int
    status: str
    decision: dict[str, Any] | None
    offer: dict[str, Any] | None
    loan_id: uuid.UUID | None
    failure_code: str | None
    cpa_network: str | None
    cpa_click_id: str | None
    escalated_at: datetime | None
    created_at: datetime
    status_changed_at: datetime
    payout_reference: str | None = None
    payout_attempt: int | None = None
    payout_requested_at: datetime | None = None
    payout_case: str | None = None
    first_repayment_date: date | None = None


_COLUMNS = (
    "id, user_id, product_id, product_version_id, principal, term_days, currency, monthly_income, status, decision,"
    " offer, loan_id, failure_code, cpa_network, cpa_click_id, escalated_at, created_at, status_changed_at,"
    " payout_reference, payout_attempt, payout_requested_at, payout_case, first_repayment_date"
)


def _application(row: Any) -> Application:
    m = row._mapping
    return Application(**{**m, "currency": m["currency"].strip()})


def name_lookup(cipher: PiiCipher, full_name: str) -> bytes:
    """The keyed digest a name is found by: case and runs of spaces do not matter."""
    return cipher.lookup("name:" + " ".join(full_name.split()))


async def users_named(session: AsyncSession, cipher: PiiCipher, full_name: str, limit: int = 50) -> list[uuid.UUID]:
    rows = await session.execute(
        text(
            "SELECT user_id FROM loan_applications WHERE name_lookup = :name"
            " GROUP BY user_id ORDER BY max(created_at) DESC LIMIT :limit"
        ),
        {"name": name_lookup(cipher, full_name), "limit": limit},
    )
    return [row.user_id for row in rows]


async def create_application(
    session: AsyncSession,
    cipher: PiiCipher,
    *,
    application_id: uuid.UUID,
    user_id: uuid.UUID,
    product_id: uuid.UUID,
    product_version_id: uuid.UUID,
    principal: int,
    term_days: int,
    currency: str,
    applicant: Applicant,
    monthly_income: int,
    device_fingerprint: str | None,
    client_address: str,
    cpa_network: str | None,
    cpa_click_id: str | None,
    first_repayment_date: date | None = None,
) -> Application:
    """The application, recorded the first time (the same id again records nothing new)."""
    personal = json.dumps(
        {
            "full_name": applicant.full_name,
            "national_id": applicant.national_id,
            "birth_date": applicant.birth_date.isoformat(),
            "phone": applicant.phone,
            "email": applicant.email,
        }
    )
    await session.execute(
        text(
            "INSERT INTO loan_applications (id, user_id, product_id, product_version_id, principal, term_days,"
            " currency, monthly_income, applicant_encrypted, national_id_lookup, phone_lookup, device_lookup,"
            " client_address, cpa_network, cpa_click_id, first_repayment_date, name_lookup, status) VALUES (:id, :user,"
            " :product, :version, :principal, :term, :currency, :income, :personal, :nid, :phone, :device, :address,"
            " :network, :click, :first_due, :name, 'received')"
            " ON CONFLICT (id) DO NOTHING"
        ),
        {
            "id": application_id,
            "user": user_id,
            "product": product_id,
            "version": product_version_id,
            "principal": principal,
            "term": term_days,
            "currency": currency,
            "income": monthly_income,
            "personal": cipher.encrypt(personal),
            "nid": cipher.lookup(applicant.national_id),
            "phone": cipher.lookup(applicant.phone),
            "device": cipher.lookup(device_fingerprint) if device_fingerprint else None,
            "address": client_address,
            "network": cpa_network,
            "click": cpa_click_id,
            "first_due": first_repayment_date,
            "name": name_lookup(cipher, applicant.full_name),
        },
    )
    found = await application(session, application_id)
    assert found is not None
    return found


async def application(session: AsyncSession, application_id: uuid.UUID, *, lock: bool = False) -> Application | None:
    row = (
        await session.execute(
            text(f"SELECT {_COLUMNS} FROM loan_applications WHERE id = :id" + (" FOR UPDATE" if lock else "")),
            {"id": application_id},
        )
    ).one_or_none()
    return None if row is None else _application(row)


async def applicant(session: AsyncSession, cipher: PiiCipher, application_id: uuid.UUID) -> Applicant:
    token = await session.scalar(
        text("SELECT applicant_encrypted FROM loan_applications WHERE id = :id"), {"id": application_id}
    )
    assert token is not None
    data = json.loads(cipher.decrypt(token))
    return Applicant(
        data["full_name"], data["national_id"], date.fromisoformat(data["birth_date"]), data["phone"], data["email"]
    )


async def set_status(
    session: AsyncSession,
    application_id: uuid.UUID,
    status: str,
    *,
    failure_code: str | None = None,
    decision: dict[str, Any] | None = None,
    offer: dict[str, Any] | None = None,
    loan_id: uuid.UUID | None = None,
) -> bool:
    """Moves a non-final application to `status` (with what the step found). False when it had already ended."""
    changed = await session.scalar(
        text(
            "UPDATE loan_applications SET status = :status, status_changed_at = CASE WHEN status = :status"
            " THEN status_changed_at ELSE now() END, failure_code = coalesce(:failure, failure_code),"
            " decision = coalesce(CAST(:decision AS jsonb), decision), offer = coalesce(CAST(:offer AS jsonb), offer),"
            " loan_id = coalesce(:loan, loan_id) WHERE id = :id AND (status <> ALL(:final) OR status = :status)"
            " RETURNING id"
        ),
        {
            "id": application_id,
            "status": status,
            "failure": failure_code,
            "loan": loan_id,
            "final": list(FINAL),
            "decision": None if decision is None else json.dumps(decision),
            "offer": None if offer is None else json.dumps(offer),
        },
    )
    return changed is not None


async def record_decision(
    session: AsyncSession, application_id: uuid.UUID, *, decision: dict[str, Any], offer: dict[str, Any] | None
) -> None:
    """What the rules or the underwriter decided; the status follows when the workflow moves on (it writes the
    read model only once it is ready for the commands the new status invites)."""
    await session.execute(
        text(
            "UPDATE loan_applications SET decision = CAST(:decision AS jsonb),"
            " offer = coalesce(CAST(:offer AS jsonb), offer) WHERE id = :id AND status <> ALL(:final)"
        ),
        {
            "id": application_id,
            "decision": json.dumps(decision),
            "offer": None if offer is None else json.dumps(offer),
            "final": list(FINAL),
        },
    )


async def mark_escalated(session: AsyncSession, application_id: uuid.UUID) -> None:
    await session.execute(
        text("UPDATE loan_applications SET escalated_at = coalesce(escalated_at, now()) WHERE id = :id"),
        {"id": application_id},
    )


async def queue(
    session: AsyncSession,
    *,
    status: str | None,
    product_id: uuid.UUID | None,
    older_than: datetime | None,
    limit: int,
    starting_after: uuid.UUID | None,
) -> list[Application]:
    """Oldest first (the longest waiting is worked first); paged by id after the given one in that order."""
    clauses: list[str] = ["true"]
    params: dict[str, Any] = {"limit": limit}
    if status is not None:
        clauses.append("status = :status")
        params["status"] = status
    if product_id is not None:
        clauses.append("product_id = :product")
        params["product"] = product_id
    if older_than is not None:
        clauses.append("status_changed_at <= :older")
        params["older"] = older_than
    if starting_after is not None:
        clauses.append(
            "(status_changed_at, id) > (SELECT status_changed_at, id FROM loan_applications WHERE id = :after)"
        )
        params["after"] = starting_after
    rows = await session.execute(
        text(
            f"SELECT {_COLUMNS} FROM loan_applications WHERE {' AND '.join(clauses)}"
            " ORDER BY status_changed_at, id LIMIT :limit"
        ),
        params,
    )
    return [_application(r) for r in rows]


async def for_user(session: AsyncSession, user_id: uuid.UUID, limit: int = 100) -> list[Application]:
    rows = await session.execute(
        text(f"SELECT {_COLUMNS} FROM loan_applications WHERE user_id = :user ORDER BY created_at DESC LIMIT :limit"),
        {"user": user_id, "limit": limit},
    )
    return [_application(r) for r in rows]


@dataclass(frozen=True)
class Velocity:
    by_phone: int
    by_national_id: int
    by_device: int
    other_applicants_on_device: int


async def velocity(session: AsyncSession, application_id: uuid.UUID, since: datetime) -> Velocity:
    """How many applications share this one's phone, national id and device since `since` (itself included), and
    how many other people ever applied from its device."""
    row = (
        await session.execute(
            text(
                "SELECT"
                " (SELECT count(*) FROM loan_applications o WHERE o.phone_lookup = a.phone_lookup"
                "   AND o.created_at >= :since) AS by_phone,"
                " (SELECT count(*) FROM loan_applications o WHERE o.national_id_lookup = a.national_id_lookup"
                "   AND o.created_at >= :since) AS by_national_id,"
                " (SELECT count(*) FROM loan_applications o WHERE o.device_lookup = a.device_lookup"
                "   AND o.created_at >= :since) AS by_device,"
                " (SELECT count(DISTINCT o.national_id_lookup) FROM loan_applications o"
                "   WHERE o.device_lookup = a.device_lookup AND o.national_id_lookup <> a.national_id_lookup)"
                " AS people_on_device"
                " FROM loan_applications a WHERE a.id = :id"
            ),
            {"id": application_id, "since": since},
        )
    ).one()
    return Velocity(int(row.by_phone), int(row.by_national_id), int(row.by_device), int(row.people_on_device))


async def blacklisted_kinds(session: AsyncSession, application_id: uuid.UUID) -> list[str]:
    rows = await session.execute(
        text(
            "SELECT b.kind FROM loan_applications a JOIN blacklist b ON"
            " (b.kind = 'phone' AND b.value_lookup = a.phone_lookup)"
            " OR (b.kind = 'national_id' AND b.value_lookup = a.national_id_lookup)"
            " OR (b.kind = 'device' AND b.value_lookup = a.device_lookup) WHERE a.id = :id ORDER BY b.kind"
        ),
        {"id": application_id},
    )
    return [r[0] for r in rows]


async def add_to_blacklist(
    session: AsyncSession, cipher: PiiCipher, *, kind: str, value: str, reason: str, staff_id: uuid.UUID
) -> None:
    await session.execute(
        text(
            "INSERT INTO blacklist (kind, value_lookup, reason, created_by) VALUES (:kind, :lookup, :reason, :staff)"
            " ON CONFLICT (kind, value_lookup) DO UPDATE SET reason = excluded.reason"
        ),
        {"kind": kind, "lookup": cipher.lookup(value), "reason": reason, "staff": staff_id},
    )


async def record_payout_request(session: AsyncSession, application_id: uuid.UUID, attempt: int, reference: str) -> None:
    """The payout the provider took for this application (its reference), so callbacks can be matched to it."""
    await session.execute(
        text(
            "UPDATE loan_applications SET payout_reference = :reference, payout_attempt = :attempt,"
            " payout_requested_at = now(), payout_case = NULL WHERE id = :id"
        ),
        {"id": application_id, "reference": reference, "attempt": attempt},
    )


async def set_payout_case(session: AsyncSession, application_id: uuid.UUID, case: str | None) -> None:
    await session.execute(
        text("UPDATE loan_applications SET payout_case = :case WHERE id = :id"), {"id": application_id, "case": case}
    )


async def payouts_in_flight(session: AsyncSession, limit: int, only_cases: bool) -> list[Application]:
    """Applications whose payout was asked for and not yet settled, oldest first."""
    rows = await session.execute(
        text(
            f"SELECT {_COLUMNS} FROM loan_applications WHERE status = 'disbursing'"
            + (" AND payout_case IS NOT NULL" if only_cases else "")
            + " ORDER BY payout_requested_at NULLS FIRST, id LIMIT :limit"
        ),
        {"limit": limit},
    )
    return [_application(r) for r in rows]
