"""Whether to lend, and how much: the rule set staff configure per product applied to what the checks found.

`decide` is pure so the same facts always give the same decision, and a reviewer can read every rule here. Reasons
come twice: short codes a borrower may be told (never which fraud signal fired), and plain sentences for staff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import Any

from domain.lending.products import ProductTerms


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REVIEW = "review"


class WhenMissing(StrEnum):
    """What a thin bureau file or an unavailable provider leads to."""

    APPROVE = "approve"
    REVIEW = "review"
    REJECT = "reject"


@dataclass(frozen=True)
class ScoreBand:
    """Applicants scoring at least `min_score` may borrow up to `max_principal` (the best band that admits wins)."""

    min_score: int
    max_principal: int


@dataclass(frozen=True)
class CreditRules:
    min_age: int = 18
    max_age: int = 75
    min_monthly_income: int = 0
    # The whole amount due at the end of the term may take at most this share of one month's income.
    max_repayment_to_income: Decimal = Decimal("0.5")
    max_delinquencies_12m: int = 0
    max_worst_days_past_due: int = 30
    max_open_loans_elsewhere: int = 5
    reject_below_score: int = 450
    review_below_score: int = 550
    score_bands: tuple[ScoreBand, ...] = ()
    # First-time borrowers are capped lower; each repaid loan here raises the cap by `repeat_step`.
    first_loan_max_principal: int | None = None
    repeat_step: int = 0
    thin_file: WhenMissing = WhenMissing.REVIEW
    bureau_unavailable: WhenMissing = WhenMissing.REVIEW
    score_unavailable: WhenMissing = WhenMissing.REVIEW
    # Anti-fraud: more than this many other applicants on one device, or applications in a day, goes to a person.
    max_other_applicants_per_device: int = 1
    max_applications_per_day: int = 3


@dataclass(frozen=True)
class BureauSummary:
    bureau: str
    found: bool  # False: the bureau knows nothing of this person (a thin file)
    open_loans: int = 0
    delinquencies_12m: int = 0
    worst_days_past_due: int = 0


@dataclass(frozen=True)
class FraudSignals:
    blacklisted: tuple[str, ...] = ()  # which of phone, national_id, device are on the blacklist
    other_applicants_on_device: int = 0
    applications_today_by_phone: int = 0
    applications_today_by_national_id: int = 0
    applications_today_by_device: int = 0


@dataclass(frozen=True)
class ApplicantFacts:
    age: int
    monthly_income: int
    requested_principal: int
    term_days: int
    repaid_loans: int = 0
    open_loans_here: int = 0
    overdue_here: bool = False
    bureau: BureauSummary | None = None  # None: no bureau could answer
    score: int | None = None  # None: the scoring provider did not answer
    fraud: FraudSignals = field(default_factory=FraudSignals)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    principal: int  # what may be lent (0 on rejection); on review, what the rules would allow
    borrower_reasons: tuple[str, ...] = ()
    staff_reasons: tuple[str, ...] = ()


def affordable_principal(terms: ProductTerms, rules: CreditRules, monthly_income: int, term_days: int) -> int:
    """The largest principal whose amount due (principal, simple interest for the term, origination fee) fits the
    income share. Rounded down to the product's step."""
    budget = Decimal(monthly_income) * rules.max_repayment_to_income - terms.origination_fee_fixed
    # The most the term's interest can come to (a day's most, every day): affordability errs on the careful side.
    per_unit = 1 + terms.interest_rate.max_night() * term_days + terms.origination_fee_percent / 100
    if budget <= 0:
        return 0
    return int((budget / per_unit).to_integral_value(rounding=ROUND_FLOOR))


def on_step(terms: ProductTerms, amount: int) -> int:
    """The largest product amount not above `amount`, or 0 when even the minimum is above it."""
    if amount < terms.principal_min:
        return 0
    amount = min(amount, terms.principal_max)
    return amount - (amount - terms.principal_min) % terms.principal_step


def _score_cap(rules: CreditRules, score: int | None) -> int | None:
    if score is None or not rules.score_bands:
        return None
    admitted = [band.max_principal for band in rules.score_bands if score >= band.min_score]
    return max(admitted) if admitted else 0


def _repeat_cap(rules: CreditRules, repaid_loans: int) -> int | None:
    if rules.first_loan_max_principal is None:
        return None
    return rules.first_loan_max_principal + rules.repeat_step * repaid_loans


class _Findings:
    def __init__(self) -> None:
        self.reject: list[tuple[str, str]] = []
        self.review: list[str] = []

    def missing(self, when: WhenMissing, borrower_code: str, staff_reason: str) -> None:
        if when is WhenMissing.REJECT:
            self.reject.append((borrower_code, staff_reason))
        elif when is WhenMissing.REVIEW:
            self.review.append(staff_reason)


def _check_applicant(rules: CreditRules, facts: ApplicantFacts, found: _Findings) -> None:
    if facts.fraud.blacklisted:
        found.reject.append(("policy", f"on the blacklist: {', '.join(sorted(facts.fraud.blacklisted))}"))
    if not rules.min_age <= facts.age <= rules.max_age:
        found.reject.append(("age", f"age {facts.age} is outside {rules.min_age}..{rules.max_age}"))
    if facts.monthly_income < rules.min_monthly_income:
        found.reject.append(("income", f"monthly income {facts.monthly_income} is below {rules.min_monthly_income}"))
    if facts.overdue_here:
        found.reject.append(("existing_loan", "has an overdue loan with us"))
    elif facts.open_loans_here:
        found.reject.append(("existing_loan", f"has {facts.open_loans_here} loan(s) with us still open"))


def _check_bureau(rules: CreditRules, bureau: BureauSummary | None, found: _Findings) -> None:
    if bureau is None:
        found.missing(rules.bureau_unavailable, "credit_history", "no credit bureau answered")
        return
    if not bureau.found:
        found.missing(rules.thin_file, "credit_history", f"{bureau.bureau} has no file on the applicant (thin file)")
        return
    if bureau.delinquencies_12m > rules.max_delinquencies_12m:
        found.reject.append(
            (
                "credit_history",
                f"{bureau.delinquencies_12m} delinquencies in 12 months (at most {rules.max_delinquencies_12m})",
            )
        )
    if bureau.worst_days_past_due > rules.max_worst_days_past_due:
        found.reject.append(
            (
                "credit_history",
                f"was {bureau.worst_days_past_due} days past due (at most {rules.max_worst_days_past_due})",
            )
        )
    if bureau.open_loans > rules.max_open_loans_elsewhere:
        found.reject.append(
            ("indebtedness", f"{bureau.open_loans} open loans elsewhere (at most {rules.max_open_loans_elsewhere})")
        )


def _check_score(rules: CreditRules, score: int | None, found: _Findings) -> None:
    if score is None:
        found.missing(rules.score_unavailable, "credit_score", "the scoring provider did not answer")
    elif score < rules.reject_below_score:
        found.reject.append(("credit_score", f"score {score} is below {rules.reject_below_score}"))
    elif score < rules.review_below_score:
        found.review.append(
            f"score {score} is in the review band {rules.reject_below_score}..{rules.review_below_score}"
        )


def _check_fraud(rules: CreditRules, fraud: FraudSignals, found: _Findings) -> None:
    if fraud.other_applicants_on_device > rules.max_other_applicants_per_device:
        found.review.append(f"device shared with {fraud.other_applicants_on_device} other applicants")
    for what, count in (
        ("phone", fraud.applications_today_by_phone),
        ("national id", fraud.applications_today_by_national_id),
        ("device", fraud.applications_today_by_device),
    ):
        if count > rules.max_applications_per_day:
            found.review.append(
                f"{count} applications today from one {what} (at most {rules.max_applications_per_day})"
            )


def decide(terms: ProductTerms, rules: CreditRules, facts: ApplicantFacts) -> Decision:
    found = _Findings()
    _check_applicant(rules, facts, found)
    _check_bureau(rules, facts.bureau, found)
    _check_score(rules, facts.score, found)
    _check_fraud(rules, facts.fraud, found)
    if found.reject:
        return Decision(
            Outcome.REJECT,
            0,
            tuple(dict.fromkeys(code for code, _ in found.reject)),
            tuple(reason for _, reason in found.reject) + tuple(found.review),
        )
    caps = {
        "requested": facts.requested_principal,
        "affordability": affordable_principal(terms, rules, facts.monthly_income, facts.term_days),
        "score band": _score_cap(rules, facts.score),
        "repeat-customer limit": _repeat_cap(rules, facts.repaid_loans),
    }
    limiting, cap = min(((name, value) for name, value in caps.items() if value is not None), key=lambda nv: nv[1])
    principal = on_step(terms, cap)
    if principal == 0:
        code = "affordability" if limiting == "affordability" else "amount"
        return Decision(
            Outcome.REJECT,
            0,
            (code,),
            (f"the {limiting} allows {cap}, below the product minimum {terms.principal_min}", *found.review),
        )
    staff = list(found.review)
    borrower: tuple[str, ...] = ()
    if principal < facts.requested_principal:
        staff.append(f"lowered from {facts.requested_principal} to {principal} by the {limiting}")
        borrower = ("lower_amount",)
    if found.review:
        return Decision(Outcome.REVIEW, principal, (), tuple(staff))
    return Decision(Outcome.APPROVE, principal, borrower, tuple(staff))


def age_on(birth_date: date, on: date) -> int:
    """Whole years of age on a date (a birthday on 29 February counts from 1 March in other years)."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def rules_from_stored(stored: Mapping[str, Any]) -> CreditRules:
    """Rules as a rule set stores them (JSON); fields left out keep their defaults."""
    values: dict[str, Any] = {}
    for f in fields(CreditRules):
        if f.name not in stored or (stored[f.name] is None and f.name != "first_loan_max_principal"):
            continue
        value = stored[f.name]
        if f.name == "max_repayment_to_income":
            value = Decimal(str(value))
        elif f.name == "score_bands":
            value = tuple(ScoreBand(int(b["min_score"]), int(b["max_principal"])) for b in value)
        elif f.name in ("thin_file", "bureau_unavailable", "score_unavailable"):
            value = WhenMissing(value)
        values[f.name] = value
    return CreditRules(**values)
