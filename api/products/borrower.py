"""`GET /v1/products` (the offers a borrower may take now) and `POST /v1/quotes` (the numbers of a loan taken
today: the same engine computes the loan, so the quote is the loan)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter

from api.dependencies import CurrentUser, Db, Resources
from api.money import Amount
from api.problems import Problem
from api.products.schemas import (
    InstalmentView,
    InterestRateBody,
    OfferList,
    OfferView,
    QuoteRequest,
    QuoteView,
    QuoteWarning,
    TermsBody,
)
from domain.lending.products import ProductInvalid, SegmentRule
from domain.lending.profiles import warnings_for
from domain.lending.schedule import quote, term_days_for
from services.wording import warning
from store.repositories import products as product_store
from store.repositories.servicing import open_business_date

router = APIRouter(prefix="/v1", tags=["products and quotes"])
MAX_QUOTE_AHEAD_DAYS = 90  # how far ahead a borrower may plan a disbursement


@router.get("/products", response_model=OfferList)
async def offers(user: CurrentUser, db: Db) -> OfferList:
    """Products with a version in force now whose segment admits this borrower."""
    now = datetime.now(UTC)
    # Loans do not exist before origination (docs/lending.md): until then every borrower has repaid none.
    repaid_loans = 0
    data = []
    for product in await product_store.products(db):
        version = await product_store.version_in_force(db, product.id, now)
        if version is None or not SegmentRule(version.min_repaid_loans, version.max_repaid_loans).admits(repaid_loans):
            continue
        terms = TermsBody.model_validate(version.terms).to_terms(product.currency)
        data.append(
            OfferView(
                id=product.id,
                code=product.code,
                name=product.name,
                currency=product.currency,
                version=version.version,
                principal_min=terms.principal_min,
                principal_max=terms.principal_max,
                principal_step=terms.principal_step,
                term_min_days=terms.term_min_days,
                term_max_days=terms.term_max_days,
                interest_rate=InterestRateBody.of(terms.interest_rate),
                daily_rate=format(terms.interest_rate.max_night().normalize(), "f"),
                repayment=terms.repayment.value,
            )
        )
    return OfferList(data=data)


@router.post("/quotes", response_model=QuoteView)
async def make_quote(body: QuoteRequest, user: CurrentUser, db: Db, resources: Resources) -> QuoteView:
    """The loan as it would start on the market's open business date (the date `book_loan` gives it), or on a
    later disbursement date the borrower names, with the first instalment where they ask for it."""
    now = datetime.now(UTC)
    product = await product_store.product(db, body.product_id)
    version = None if product is None else await product_store.version_in_force(db, body.product_id, now)
    if product is None or version is None:
        raise Problem(404, "not_found", "no such product on offer")
    terms = TermsBody.model_validate(version.terms).to_terms(product.currency)
    today = await open_business_date(db, resources.settings.market_timezone)
    start = body.disbursement_date or today
    if not today <= start <= today + timedelta(days=MAX_QUOTE_AHEAD_DAYS):
        raise Problem(
            422, "validation_error", f"disbursement_date must be from {today} to {MAX_QUOTE_AHEAD_DAYS} days after it"
        )
    try:
        term_days = body.term_days
        if term_days is None:
            assert body.term_periods is not None
            term_days = term_days_for(terms, start, body.term_periods, body.first_repayment_date)
        offer = quote(terms, body.principal, term_days, start, body.first_repayment_date)
    except ProductInvalid as invalid:
        raise Problem(
            422, "validation_error", "; ".join(invalid.problems), extra={"problems": invalid.problems}
        ) from None
    currency = product.currency
    return QuoteView(
        product_id=product.id,
        product_version=version.version,
        principal=Amount(amount=offer.principal, currency=currency),
        interest=Amount(amount=offer.interest, currency=currency),
        fees=Amount(amount=offer.fees, currency=currency),
        total_due=Amount(amount=offer.total_due, currency=currency),
        start_date=offer.start,
        term_days=offer.term_days,
        due_date=offer.due_date,
        apr=format(offer.apr, "f"),
        interest_rate=InterestRateBody.of(offer.interest_rate),
        daily_rate=format(offer.interest_rate.max_night().normalize(), "f"),
        schedule=[
            InstalmentView(due_date=i.due_date, principal=i.principal, interest=i.interest, fees=i.fees, total=i.total)
            for i in offer.schedule
        ],
        warnings=[QuoteWarning(code=code, text=warning(code, "en")) for code in warnings_for(version.profile)],
    )
