"""Funded loans, the cards they are paid out to and charged from, and the CPA postbacks their funding owes.

A loan's outstanding amounts are never stored here: they are the ledger balances of the accounts in `accounts`."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Card:
    id: uuid.UUID
    user_id: uuid.UUID
    provider: str
    payment_method: str
    customer_reference: str | None
    brand: str | None
    last4: str | None


async def save_card(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    provider: str,
    payment_method: str,
    customer_reference: str | None,
    brand: str | None,
    last4: str | None,
) -> Card:
    row = (
        await session.execute(
            text(
                "INSERT INTO payment_cards (id, user_id, provider, payment_method, customer_reference, brand, last4)"
                " VALUES (:id, :user, :provider, :pm, :customer, :brand, :last4)"
                " ON CONFLICT (user_id, payment_method) DO UPDATE SET customer_reference = excluded.customer_reference"
                " RETURNING id, user_id, provider, payment_method, customer_reference, brand, last4"
            ),
            {
                "id": uuid.uuid4(),
                "user": user_id,
                "provider": provider,
                "pm": payment_method,
                "customer": customer_reference,
                "brand": brand,
                "last4": last4,
            },
        )
    ).one()
    return Card(*row)


async def cards_of_user(session: AsyncSession, user_id: uuid.UUID) -> list[Card]:
    """The cards a user linked (newest first): what a top-up or a repayment may be taken from."""
    rows = await session.execute(
        text(
            "SELECT id, user_id, provider, payment_method, customer_reference, brand, last4 FROM payment_cards"
            " WHERE user_id = :user ORDER BY created_at DESC"
        ),
        {"user": user_id},
    )
    return [Card(**r._mapping) for r in rows]


async def customer_reference(session: AsyncSession, user_id: uuid.UUID, provider: str) -> str | None:
    """The provider customer the borrower's cards hang off, once one exists."""
    found = await session.scalar(
        text(
            "SELECT customer_reference FROM payment_cards WHERE user_id = :user AND provider = :provider"
            " AND customer_reference IS NOT NULL ORDER BY created_at LIMIT 1"
        ),
        {"user": user_id, "provider": provider},
    )
    return None if found is None else str(found)


async def card(session: AsyncSession, card_id: uuid.UUID) -> Card | None:
    row = (
        await session.execute(
            text(
                "SELECT id, user_id, provider, payment_method, customer_reference, brand, last4 FROM payment_cards"
                " WHERE id = :id"
            ),
            {"id": card_id},
        )
    ).one_or_none()
    return None if row is None else Card(*row)


@dataclass(frozen=True)
class Loan:
    id: uuid.UUID
    application_id: uuid.UUID
    user_id: uuid.UUID
    product_id: uuid.UUID
    product_version_id: uuid.UUID
    currency: str
    principal: int
    origination_fee: int
    term_days: int
    start_date: date
    due_date: date
    status: str
    card_id: uuid.UUID | None
    disbursement_reference: str | None
    disbursement_entry_id: int | None
    accounts: dict[str, Any]
    terms: dict[str, Any]
    created_at: datetime
    first_due_date: date | None = None  # a broken first period the borrower chose; None: one frequency after start


_COLUMNS = (
    "id, application_id, user_id, product_id, product_version_id, currency, principal, origination_fee, term_days,"
    " start_date, due_date, status, card_id, disbursement_reference, disbursement_entry_id, accounts, terms, created_at,"
    " first_due_date"
)


def _loan(row: Any) -> Loan:
    m = row._mapping
    return Loan(**{**m, "currency": m["currency"].strip()})


async def create_loan(
    session: AsyncSession,
    *,
    loan_id: uuid.UUID,
    application_id: uuid.UUID,
    user_id: uuid.UUID,
    product_id: uuid.UUID,
    product_version_id: uuid.UUID,
    currency: str,
    principal: int,
    origination_fee: int,
    term_days: int,
    start_date: date,
    due_date: date,
    card_id: uuid.UUID | None,
    disbursement_reference: str,
    accounts: dict[str, Any],
    terms: dict[str, Any],
    first_due_date: date | None = None,
) -> Loan:
    """One loan per application, whatever retries happen: the second call returns the first loan."""
    await session.execute(
        text(
            f"INSERT INTO loans ({_COLUMNS.replace(', created_at', '')}, accrued_fees, accrued_through) VALUES (:id,"
            " :app, :user, :product, :version, :currency, :principal, :fee, :term, :start, :due, 'active', :card,"
            " :reference, NULL, CAST(:accounts AS jsonb), CAST(:terms AS jsonb), :first_due, :fee,"
            " CAST(:start AS date) - 1)"
            " ON CONFLICT (application_id) DO NOTHING"
        ),
        {
            "id": loan_id,
            "app": application_id,
            "user": user_id,
            "product": product_id,
            "version": product_version_id,
            "currency": currency,
            "principal": principal,
            "fee": origination_fee,
            "term": term_days,
            "start": start_date,
            "due": due_date,
            "card": card_id,
            "reference": disbursement_reference,
            "accounts": json.dumps(accounts),
            "terms": json.dumps(terms),
            "first_due": first_due_date,
        },
    )
    found = await loan_for_application(session, application_id)
    assert found is not None
    return found


async def set_disbursement_entry(session: AsyncSession, loan_id: uuid.UUID, entry_id: int) -> None:
    await session.execute(
        text("UPDATE loans SET disbursement_entry_id = :entry WHERE id = :id"), {"id": loan_id, "entry": entry_id}
    )


async def loan(session: AsyncSession, loan_id: uuid.UUID) -> Loan | None:
    row = (await session.execute(text(f"SELECT {_COLUMNS} FROM loans WHERE id = :id"), {"id": loan_id})).one_or_none()
    return None if row is None else _loan(row)


async def loan_for_application(session: AsyncSession, application_id: uuid.UUID) -> Loan | None:
    row = (
        await session.execute(
            text(f"SELECT {_COLUMNS} FROM loans WHERE application_id = :app"), {"app": application_id}
        )
    ).one_or_none()
    return None if row is None else _loan(row)


async def loans_for_user(session: AsyncSession, user_id: uuid.UUID, limit: int = 100) -> list[Loan]:
    rows = await session.execute(
        text(f"SELECT {_COLUMNS} FROM loans WHERE user_id = :user ORDER BY created_at DESC LIMIT :limit"),
        {"user": user_id, "limit": limit},
    )
    return [_loan(r) for r in rows]


@dataclass(frozen=True)
class History:
    repaid: int
    open: int
    overdue: int


async def history(session: AsyncSession, user_id: uuid.UUID) -> History:
    """What the borrower's loans with us say about them: the segment and the repeat-customer rules read it."""
    row = (
        await session.execute(
            text(
                "SELECT count(*) FILTER (WHERE status = 'repaid') AS repaid,"
                " count(*) FILTER (WHERE status IN ('active', 'overdue')) AS open,"
                " count(*) FILTER (WHERE status = 'overdue') AS overdue FROM loans WHERE user_id = :user"
            ),
            {"user": user_id},
        )
    ).one()
    return History(int(row.repaid), int(row.open), int(row.overdue))


async def record_postback(session: AsyncSession, application_id: uuid.UUID, network: str, url: str) -> None:
    await session.execute(
        text(
            "INSERT INTO cpa_postbacks (application_id, network, url) VALUES (:app, :network, :url)"
            " ON CONFLICT (application_id) DO NOTHING"
        ),
        {"app": application_id, "network": network, "url": url},
    )


async def postback_attempt(session: AsyncSession, application_id: uuid.UUID, error: str | None) -> None:
    await session.execute(
        text(
            "UPDATE cpa_postbacks SET attempts = attempts + 1, last_error = CAST(:error AS text),"
            " status = CASE WHEN CAST(:error AS text) IS NULL THEN 'accepted' ELSE status END,"
            " accepted_at = CASE WHEN CAST(:error AS text) IS NULL THEN now() ELSE accepted_at END"
            " WHERE application_id = :app"
        ),
        {"app": application_id, "error": error},
    )


async def postback(session: AsyncSession, application_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        await session.execute(
            text(
                "SELECT network, url, status, attempts, last_error, accepted_at FROM cpa_postbacks WHERE application_id = :app"
            ),
            {"app": application_id},
        )
    ).one_or_none()
    return None if row is None else dict(row._mapping)


@dataclass(frozen=True)
class LoanEntry:
    entry_id: int
    kind: str
    value_date: date
    recorded_at: datetime
    owed: dict[str, int]  # per component: how much this entry added to what the borrower owes (negative: repaid)


async def loan_entries(session: AsyncSession, receivable: dict[str, int]) -> list[LoanEntry]:
    """The ledger entries that touched the loan's receivable accounts, oldest first."""
    component_of = {account: name for name, account in receivable.items()}
    rows = await session.execute(
        text(
            "SELECT e.id, e.kind, e.value_date, e.recorded_at, p.account_id, p.amount FROM postings p"
            " JOIN journal_entries e ON e.id = p.entry_id WHERE p.account_id = ANY(:accounts)"
            " ORDER BY e.value_date, e.id"
        ),
        {"accounts": list(component_of)},
    )
    entries: dict[int, LoanEntry] = {}
    for entry_id, kind, value_date, recorded_at, account_id, amount in rows:
        entry = entries.setdefault(entry_id, LoanEntry(entry_id, kind, value_date, recorded_at, {}))
        # Receivables are assets: under the credit-positive convention what is owed grows as they go negative.
        entry.owed[component_of[account_id]] = entry.owed.get(component_of[account_id], 0) - amount
    return list(entries.values())
