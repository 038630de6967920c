"""The loan agreement a borrower signs, produced from the product version's terms and the offer, and its hash.

The document is plain text with every figure the borrower agrees to (the same quote the engine computes), so the
hash kept with the signature proves what was signed; regenerating it from the same inputs gives the same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from domain.lending.products import ProductTerms, origination_fee
from domain.lending.schedule import quote
from domain.money import format_money


@dataclass(frozen=True)
class AgreementFacts:
    application_id: str
    borrower_name: str
    product_name: str
    product_version: int
    terms: ProductTerms
    principal: int
    term_days: int
    start: date
    first_due: date | None = None


def render_agreement(facts: AgreementFacts) -> str:
    terms, currency = facts.terms, facts.terms.currency
    offer = quote(terms, facts.principal, facts.term_days, facts.start, facts.first_due)
    lines = [
        "LOAN AGREEMENT",
        f"Application: {facts.application_id}",
        f"Borrower: {facts.borrower_name}",
        f"Product: {facts.product_name}, version {facts.product_version}",
        f"Date: {facts.start.isoformat()}",
        "",
        f"Principal: {format_money(offer.principal, currency)}",
        f"Term: {facts.term_days} days",
        f"Interest rate: {terms.interest_rate.describe()}",
        f"Origination fee: {format_money(origination_fee(terms, facts.principal), currency)}",
        f"Total interest: {format_money(offer.interest, currency)}",
        f"Total to repay: {format_money(offer.total_due, currency)}",
        f"Annual percentage rate: {offer.apr}%",
        "",
        "Repayment schedule:",
        *(f"  {i.due_date.isoformat()}: {format_money(i.total, currency)}" for i in offer.schedule),
        "",
        f"Late payment: penalty {terms.penalty_daily_rate} per day on overdue principal",
        *(f"  fine of {format_money(f.amount, currency)} at {f.days_past_due} days past due" for f in terms.fines),
        f"Extensions: at most {terms.max_extensions}, fee {terms.extension_fee_percent}% of principal",
        "",
        "The borrower signs this agreement by entering the code sent to their phone.",
    ]
    return "\n".join(lines) + "\n"


def document_hash(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()
