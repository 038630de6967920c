"""Taking a loan application: the product on offer to this borrower, the loan as it would be booked today (the same
checks a quote makes), the personal data encrypted, and the input of its origination process. One path for the API
and the borrower's pages; the caller commits and starts the workflow."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from config import Settings
from config.task_queues import Family
from contracts.origination import LoanApplicationInput, OriginationTimings
from domain.lending.products import ProductInvalid, SegmentRule, terms_from_stored
from domain.lending.schedule import quote, term_days_for
from store.pii import PiiCipher
from store.repositories import applications, loans
from store.repositories import products as product_store
from store.repositories.servicing import open_business_date


class ApplicationRefused(ValueError):
    """What the borrower must change; every problem is named."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ApplicationRequest:
    product_id: uuid.UUID
    principal: int
    term_days: int | None  # or
    term_periods: int | None
    first_repayment_date: date | None
    applicant: applications.Applicant
    monthly_income: int | None
    device_fingerprint: str | None
    client_address: str | None
    cpa_network: str | None = None
    cpa_click_id: str | None = None


async def record_application(
    db: AsyncSession,
    cipher: PiiCipher,
    settings: Settings,
    *,
    application_id: uuid.UUID,
    user_id: uuid.UUID,
    request: ApplicationRequest,
) -> applications.Application:
    now = datetime.now(UTC)
    product = await product_store.product(db, request.product_id)
    version = None if product is None else await product_store.version_in_force(db, request.product_id, now)
    if product is None or version is None:
        raise ApplicationRefused(["no such product on offer"])
    history = await loans.history(db, user_id)
    if not SegmentRule(version.min_repaid_loans, version.max_repaid_loans).admits(history.repaid):
        raise ApplicationRefused(["this product is not offered to you (see GET /v1/products)"])
    terms = terms_from_stored(version.terms, product.currency)
    start = await open_business_date(db, settings.market_timezone)
    try:
        term_days = request.term_days
        if term_days is None:
            if request.term_periods is None:
                raise ProductInvalid(["give the term in days or in instalments"])
            term_days = term_days_for(terms, start, request.term_periods, request.first_repayment_date)
        quote(terms, request.principal, term_days, start, request.first_repayment_date)
    except ProductInvalid as invalid:
        raise ApplicationRefused(invalid.problems) from None
    if request.cpa_network is not None and request.cpa_network not in settings.cpa_networks:
        raise ApplicationRefused([f"unknown CPA network {request.cpa_network!r}"])
    return await applications.create_application(
        db,
        cipher,
        application_id=application_id,
        user_id=user_id,
        product_id=product.id,
        product_version_id=version.id,
        principal=request.principal,
        term_days=term_days,
        currency=product.currency,
        applicant=request.applicant,
        monthly_income=request.monthly_income,
        device_fingerprint=request.device_fingerprint,
        client_address=request.client_address,
        cpa_network=request.cpa_network,
        cpa_click_id=request.cpa_click_id,
        first_repayment_date=request.first_repayment_date,
    )


def origination_input(settings: Settings, application_id: str) -> LoanApplicationInput:
    """The process's input, read from settings once at its start (a running application keeps its timings)."""
    timings = OriginationTimings.model_validate(settings.model_dump(include=set(OriginationTimings.model_fields)))
    return LoanApplicationInput(
        application_id=application_id,
        bureaus=[bureau.name for bureau in settings.bureaus],
        timings=timings,
        task_queue=settings.queue_for(Family.ORIGINATION),
    )
