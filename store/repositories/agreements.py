"""Loan agreements: the document the borrower saw, its hash, the signing code (only its keyed hash) and the
evidence of signing (who, when, from which phone and address)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from store.pii import PiiCipher

SEALED = "sealed:"  # what a document encrypted at rest starts with (documents written before are plain text)


@dataclass(frozen=True)
class Agreement:
    application_id: uuid.UUID
    document: str  # as stored: sealed (read it with `document_text`)
    document_hash: str
    code_hash: bytes | None
    code_expires_at: datetime | None
    attempts: int
    codes_sent: int
    signed_at: datetime | None
    signer_address: str | None
    voided_at: datetime | None
    pdf_hash: str | None = None  # agreements made before the PDF existed have none


_COLUMNS = (
    "application_id, document, document_hash, code_hash, code_expires_at, attempts, codes_sent, signed_at,"
    " signer_address, voided_at, pdf_hash"
)


async def create_agreement(
    session: AsyncSession,
    cipher: PiiCipher,
    application_id: uuid.UUID,
    document: str,
    digest: str,
    pdf: bytes | None = None,
    pdf_digest: str | None = None,
) -> None:
    """Kept as first produced: a retried activity does not replace the document the borrower may have read. The
    document names the borrower, so it is encrypted at rest; its hash (of the plain text) is what the signature
    covers."""
    await session.execute(
        text(
            "INSERT INTO loan_agreements (application_id, document, document_hash, pdf, pdf_hash)"
            " VALUES (:app, :doc, :hash, :pdf, :pdf_hash) ON CONFLICT (application_id) DO NOTHING"
        ),
        {
            "app": application_id,
            "doc": SEALED + cipher.encrypt(document).decode(),
            "hash": digest,
            "pdf": None if pdf is None else cipher.encrypt_bytes(pdf),
            "pdf_hash": pdf_digest,
        },
    )


def document_text(found: Agreement, cipher: PiiCipher) -> str:
    """The document as the borrower read it."""
    if found.document.startswith(SEALED):
        return cipher.decrypt(found.document.removeprefix(SEALED).encode())
    return found.document


async def agreement(session: AsyncSession, application_id: uuid.UUID, *, lock: bool = False) -> Agreement | None:
    row = (
        await session.execute(
            text(
                f"SELECT {_COLUMNS} FROM loan_agreements WHERE application_id = :app" + (" FOR UPDATE" if lock else "")
            ),
            {"app": application_id},
        )
    ).one_or_none()
    return None if row is None else Agreement(**row._mapping)


async def agreement_pdf(session: AsyncSession, cipher: PiiCipher, application_id: uuid.UUID) -> bytes | None:
    """The PDF as produced with the agreement (its SHA-256 is the row's `pdf_hash`)."""
    sealed = await session.scalar(
        text("SELECT pdf FROM loan_agreements WHERE application_id = :app"), {"app": application_id}
    )
    return None if sealed is None else cipher.decrypt_bytes(sealed)


async def set_code(session: AsyncSession, application_id: uuid.UUID, code_hash: bytes, ttl: timedelta) -> None:
    """A new code replaces the old one (which stops working) and restarts the attempts."""
    await session.execute(
        text(
            "UPDATE loan_agreements SET code_hash = :hash, code_expires_at = now() + :ttl, attempts = 0,"
            " codes_sent = codes_sent + 1 WHERE application_id = :app"
        ),
        {"app": application_id, "hash": code_hash, "ttl": ttl},
    )


async def count_attempt(session: AsyncSession, application_id: uuid.UUID) -> int:
    attempts = await session.scalar(
        text("UPDATE loan_agreements SET attempts = attempts + 1 WHERE application_id = :app RETURNING attempts"),
        {"app": application_id},
    )
    return int(attempts or 0)


async def mark_signed(
    session: AsyncSession, application_id: uuid.UUID, *, signer_id: uuid.UUID, phone_encrypted: bytes, address: str
) -> None:
    await session.execute(
        text(
            "UPDATE loan_agreements SET signed_at = coalesce(signed_at, now()), signer_id = :signer,"
            " signer_phone_encrypted = :phone, signer_address = :address, code_hash = NULL"
            " WHERE application_id = :app AND signed_at IS NULL"
        ),
        {"app": application_id, "signer": signer_id, "phone": phone_encrypted, "address": address},
    )


async def void(session: AsyncSession, application_id: uuid.UUID) -> None:
    await session.execute(
        text(
            "UPDATE loan_agreements SET voided_at = coalesce(voided_at, now()), code_hash = NULL"
            " WHERE application_id = :app"
        ),
        {"app": application_id},
    )
