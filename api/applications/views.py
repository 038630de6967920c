"""Shaping stored applications for answers (the borrower sees codes, never the staff's reasons)."""

from __future__ import annotations

from datetime import UTC, datetime

from api.applications.schemas import ApplicationView, CheckView, OfferView, StaffApplicationView
from store.repositories.agreements import Agreement
from store.repositories.applications import Application
from store.repositories.credit_checks import CreditCheck


def application_view(app: Application) -> ApplicationView:
    reasons = None
    if app.decision is not None and app.decision.get("borrower_reasons"):
        reasons = list(app.decision["borrower_reasons"])
    offer = None
    if app.offer is not None and app.status not in ("rejected",):
        offer = OfferView.model_validate(app.offer)
    return ApplicationView(
        id=app.id,
        status=app.status,
        product_id=app.product_id,
        principal=app.principal,
        term_days=app.term_days,
        first_repayment_date=app.first_repayment_date,
        currency=app.currency,
        offer=offer,
        reasons=reasons,
        loan_id=app.loan_id,
        created_at=app.created_at,
    )


def staff_application_view(
    app: Application, checks: list[CreditCheck] | None = None, agreement: Agreement | None = None
) -> StaffApplicationView:
    base = application_view(app).model_dump()
    minutes = int((datetime.now(UTC) - app.status_changed_at).total_seconds() // 60)
    signed = None
    if agreement is not None:
        signed = {
            "document_hash": agreement.document_hash,
            "signed_at": agreement.signed_at,
            "signer_address": agreement.signer_address,
            "codes_sent": agreement.codes_sent,
            "attempts": agreement.attempts,
            "voided_at": agreement.voided_at,
        }
    return StaffApplicationView(
        **base,
        user_id=app.user_id,
        decision=app.decision,
        failure_code=app.failure_code,
        escalated_at=app.escalated_at,
        status_changed_at=app.status_changed_at,
        minutes_in_status=minutes,
        checks=[check_view(c) for c in checks or []],
        agreement=signed,
    )


def check_view(check: CreditCheck) -> CheckView:
    return CheckView(
        kind=check.kind,
        provider=check.provider,
        reference=check.reference,
        status=check.status,
        summary=check.summary,
        created_at=check.created_at,
        received_at=check.received_at,
    )
