"""A customer's file: who they are to us (never their decrypted personal data unless a caller decrypts on purpose),
their applications and what the checks found, loans, wallets, the messages we sent (without bodies) and their
credit history with us. One reading for the staff API and the staff console; reading it is audited by the caller
(the audit row names the staff member, who only the face knows)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy.ext.asyncio import AsyncSession

from store.pii import PiiCipher
from store.repositories import applications, collections, credit_checks, identity, loans, messages
from store.repositories import wallets as wallet_store


@dataclass(frozen=True)
class CustomerFile:
    id: uuid.UUID
    created_at: datetime
    applications: list[applications.Application]
    checks: list[credit_checks.CreditCheck]
    loans: list[loans.Loan]
    wallets: list[wallet_store.Wallet]
    messages: list[dict[str, object]]
    history: loans.History
    contacts: list[dict[str, Any]]  # collectors' contacts on any of their loans
    promises: list[dict[str, Any]]  # promises to pay on any of their loans


async def customer_file(db: AsyncSession, user_id: uuid.UUID) -> CustomerFile | None:
    user = await identity.user(db, user_id)
    if user is None:
        return None
    their_loans = await loans.loans_for_user(db, user_id)
    contacts = [c | {"loan_id": loan.id} for loan in their_loans for c in await collections.contacts(db, loan.id)]
    return CustomerFile(
        id=user.id,
        created_at=user.created_at,
        applications=await applications.for_user(db, user_id),
        checks=await credit_checks.checks_for_user(db, user_id),
        loans=their_loans,
        wallets=await wallet_store.wallets_of(db, user_id),
        messages=await messages.messages_to(db, user.phone_lookup),
        history=await loans.history(db, user_id),
        contacts=sorted(contacts, key=lambda c: c["created_at"], reverse=True),
        promises=await collections.promises(db, [loan.id for loan in their_loans]),
    )


async def find_by_phone(db: AsyncSession, cipher: PiiCipher, phone: str) -> uuid.UUID | None:
    """Phones are stored encrypted with a keyed digest of their E.164 form: a number typed any usual way (spaces,
    dashes, with its + and country code) finds its customer."""
    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return None
    found = await identity.user_by_phone(
        db, cipher, phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    )
    return None if found is None else found.id


@dataclass(frozen=True)
class CustomerLine:
    id: uuid.UUID
    created_at: datetime
    applications: int
    loans: int
    open_loans: int


async def find_customers(db: AsyncSession, cipher: PiiCipher, query: str) -> list[CustomerLine]:
    """Staff type what they have: a customer id, a phone number (exact) or the full name on an application
    (exact, case and spacing aside). Personal data is stored encrypted, so there is no partial match."""
    query = query.strip()
    ids: list[uuid.UUID] = []
    try:
        ids = [uuid.UUID(query)]
    except ValueError:
        by_phone = await find_by_phone(db, cipher, query) if any(c.isdigit() for c in query) else None
        ids = [by_phone] if by_phone else await applications.users_named(db, cipher, query)
    found = []
    for user_id in ids:
        user = await identity.user(db, user_id)
        if user is None:
            continue
        history = await loans.history(db, user_id)
        found.append(
            CustomerLine(
                id=user.id,
                created_at=user.created_at,
                applications=len(await applications.for_user(db, user_id)),
                loans=history.repaid + history.open,
                open_loans=history.open,
            )
        )
    return found
