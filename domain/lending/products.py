"""Credit product terms: what a product version promises, checked for consistency before anyone can sign it.

The interest rate is a fraction (`Decimal`: 0.008 is 0.8%) per the period the lender states it in (day, week, month
or year) with the day-count convention that applies (`domain/lending/interest.py`); a rate is never converted by
hand. Penalty rates are per day. Shares of principal (caps) are fractions; fee rates are percentages of principal
(`*_percent`, as the API has always taken them). Amounts are integer minor units of the product's currency.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from domain.currency import minor_units
from domain.lending.interest import DayCount, InterestRate, RatePeriod


class RepaymentKind(StrEnum):
    SINGLE = "single"  # one payment at the end (payday loan)
    ANNUITY = "annuity"  # equal instalments
    DECLINING = "declining"  # equal principal parts, interest on what is left


class Frequency(StrEnum):
    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"


class InterestRounding(StrEnum):
    """When accrued interest becomes whole minor units."""

    CUMULATIVE = "cumulative"  # interest accrued to date, rounded once when read (no instalment boundary)
    PER_PERIOD = "per_period"  # each instalment period's interest rounded at its due date (Fineract, most banks)


class AfterDue(StrEnum):
    """What contractual interest does once a payment is overdue."""

    CONTINUE = "continue"
    STOP = "stop"
    PENALTY_ONLY = "penalty_only"  # replaced by the penalty rate


@dataclass(frozen=True)
class Fine:
    days_past_due: int
    amount: int


@dataclass(frozen=True)
class Caps:
    """Regulatory or voluntary limits. `None` means no such limit."""

    daily_cost_share: Decimal | None = None  # interest and charges per day / principal outstanding
    total_cost_share: Decimal | None = None  # all interest, fees and charges / principal
    default_fees_total: int | None = None  # all fines together
    penalty_total_share: Decimal | None = None  # all penalties and fines / principal
    penalty_per_delay_share: Decimal | None = None  # penalties for one delay / the overdue payment
    max_extensions: int | None = None
    max_failed_debits: int | None = None


@dataclass(frozen=True)
class ProductTerms:
    currency: str
    principal_min: int
    principal_max: int
    principal_step: int
    term_min_days: int
    term_max_days: int
    rate: Decimal  # per `rate_period`
    repayment: RepaymentKind = RepaymentKind.SINGLE
    frequency: Frequency | None = None
    origination_fee_percent: Decimal = Decimal(0)
    origination_fee_fixed: int = 0
    grace_days: int = 0
    penalty_daily_rate: Decimal = Decimal(0)
    fines: tuple[Fine, ...] = ()
    after_due: AfterDue = AfterDue.CONTINUE
    extension_days: tuple[int, ...] = ()
    extension_fee_percent: Decimal = Decimal(0)
    extension_requires_interest_paid: bool = True
    max_extensions: int = 0
    caps: Caps = field(default_factory=Caps)
    rate_period: RatePeriod = RatePeriod.DAY
    day_count: DayCount = DayCount.ACTUAL_365_FIXED
    interest_rounding: InterestRounding = InterestRounding.CUMULATIVE

    @property
    def interest_rate(self) -> InterestRate:
        return InterestRate(self.rate, self.rate_period, self.day_count)


class ProductInvalid(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def check_terms(terms: ProductTerms) -> ProductTerms:
    """The terms, if they are consistent; otherwise `ProductInvalid` naming every problem."""
    problems: list[str] = []
    try:
        minor_units(terms.currency)
    except ValueError as err:
        problems.append(str(err))
    if not 0 < terms.principal_min <= terms.principal_max:
        problems.append("principal_min must be positive and not above principal_max")
    if terms.principal_step <= 0 or (terms.principal_max - terms.principal_min) % terms.principal_step:
        problems.append("principal_step must be positive and divide the principal range")
    if not 0 < terms.term_min_days <= terms.term_max_days:
        problems.append("term_min_days must be positive and not above term_max_days")
    for name in ("rate", "penalty_daily_rate", "origination_fee_percent", "extension_fee_percent"):
        if getattr(terms, name) < 0:
            problems.append(f"{name} must not be negative")
    if terms.origination_fee_fixed < 0 or any(f.amount <= 0 or f.days_past_due <= 0 for f in terms.fines):
        problems.append("fees and fines must be positive amounts at positive days past due")
    if terms.repayment is RepaymentKind.SINGLE and terms.frequency is not None:
        problems.append("a single-payment loan has no instalment frequency")
    if terms.repayment is not RepaymentKind.SINGLE and terms.frequency is None:
        problems.append("instalment loans need a frequency")
    if terms.grace_days < 0 or terms.max_extensions < 0 or any(d <= 0 for d in terms.extension_days):
        problems.append("grace days, extensions and extension lengths must not be negative")
    if terms.max_extensions and not terms.extension_days:
        problems.append("extensions are allowed but no extension length is")
    caps = terms.caps
    if caps.daily_cost_share is not None:
        daily = terms.interest_rate.max_night()
        if daily > caps.daily_cost_share:
            problems.append(
                f"the rate charges up to {daily:.6f} a day, above the daily cost cap {caps.daily_cost_share}"
            )
        upfront = terms.origination_fee_percent / 100 + Decimal(terms.origination_fee_fixed) / terms.principal_min
        if daily + upfront / terms.term_min_days > caps.daily_cost_share:
            problems.append("interest and the origination fee over the shortest term exceed the daily cost cap")
        if (
            terms.after_due is not AfterDue.STOP
            and terms.penalty_daily_rate + (daily if terms.after_due is AfterDue.CONTINUE else 0)
            > caps.daily_cost_share
        ):
            problems.append("interest after the due date exceeds the daily cost cap")
    if caps.total_cost_share is not None:
        for principal in (terms.principal_min, terms.principal_max):
            if origination_fee(terms, principal) > caps.total_cost_share * principal:
                problems.append(
                    f"the origination fee on {principal} alone is above the total cost cap "
                    f"({caps.total_cost_share} of principal): no term could be quoted within it"
                )
                break
    if caps.max_extensions is not None and terms.max_extensions > caps.max_extensions:
        problems.append(f"at most {caps.max_extensions} extensions are allowed")
    if caps.default_fees_total is not None and sum(f.amount for f in terms.fines) > caps.default_fees_total:
        problems.append(f"fines add up to more than the default fee cap {caps.default_fees_total}")
    if problems:
        raise ProductInvalid(problems)
    return terms


def total_cost_room(caps: Caps, principal: int, charged: Decimal) -> Decimal | None:
    """What may still be charged (interest, fees, penalties, fines) on a loan of `principal` that has been charged
    `charged` so far; `None` when no total cost cap applies. The one reading of the total cost cap: the quote, the
    schedule and the engine all ask it, so a quote never promises what the loan may not charge."""
    if caps.total_cost_share is None:
        return None
    return max(Decimal(0), caps.total_cost_share * principal - charged)


def interest_factor(terms: ProductTerms, start: date, end: date) -> Decimal:
    """Interest per unit of principal over the nights `start` .. `end - 1`, as the daily cost cap lets it accrue (the
    engine scales a night down to the cap; `check_terms` refuses products whose rate alone is above it)."""
    rate, cap = terms.interest_rate, terms.caps.daily_cost_share
    if cap is None or rate.max_night() <= cap:
        return rate.factor(start, end)
    if rate.uniform_nights():
        return min(rate.night(start), cap) * (end - start).days
    return sum((min(rate.night(start + timedelta(days=n)), cap) for n in range((end - start).days)), Decimal(0))


def origination_fee(terms: ProductTerms, principal: int) -> int:
    """Percent of principal (rounded half-up to a minor unit) plus the fixed part."""
    percent = (Decimal(principal) * terms.origination_fee_percent / 100).to_integral_value(rounding=ROUND_HALF_UP)
    return int(percent) + terms.origination_fee_fixed


def check_request(terms: ProductTerms, principal: int, term_days: int) -> None:
    problems = []
    if (
        not terms.principal_min <= principal <= terms.principal_max
        or (principal - terms.principal_min) % terms.principal_step
    ):
        problems.append(
            f"principal must be {terms.principal_min}..{terms.principal_max} in steps of {terms.principal_step}"
        )
    if not terms.term_min_days <= term_days <= terms.term_max_days:
        problems.append(f"term must be {terms.term_min_days}..{terms.term_max_days} days")
    if problems:
        raise ProductInvalid(problems)


def debit_attempt_allowed(terms: ProductTerms, failed_attempts: int) -> bool:
    """Whether another automatic card debit may be tried after `failed_attempts` unsuccessful ones (the FCA allows
    two for a continuous payment authority; a product without the cap has no limit here)."""
    cap = terms.caps.max_failed_debits
    return cap is None or failed_attempts < cap


@dataclass(frozen=True)
class SegmentRule:
    """Which borrowers a product version is for, by how many loans they have repaid."""

    min_repaid_loans: int = 0
    max_repaid_loans: int | None = None

    def admits(self, repaid_loans: int) -> bool:
        return repaid_loans >= self.min_repaid_loans and (
            self.max_repaid_loans is None or repaid_loans <= self.max_repaid_loans
        )


def _decimal_or_none(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _stored_rate(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A version stores either `interest_rate` ({rate, per, day_count}) or, as every version before it did,
    `daily_rate` (a rate per calendar day)."""
    given = stored.get("interest_rate")
    if given:
        return {
            "rate": Decimal(str(given["rate"])),
            "rate_period": RatePeriod(given.get("per", "day")),
            "day_count": DayCount(given.get("day_count", DayCount.ACTUAL_365_FIXED.value)),
        }
    return {"rate": Decimal(str(stored["daily_rate"]))}


def terms_from_stored(stored: Mapping[str, Any], currency: str) -> ProductTerms:
    """Terms as a product version stores them (JSON: rates as decimal strings, amounts as integers)."""
    caps = stored.get("caps") or {}
    return ProductTerms(
        currency=currency,
        principal_min=int(stored["principal_min"]),
        principal_max=int(stored["principal_max"]),
        principal_step=int(stored["principal_step"]),
        term_min_days=int(stored["term_min_days"]),
        term_max_days=int(stored["term_max_days"]),
        **_stored_rate(stored),
        repayment=RepaymentKind(stored.get("repayment", "single")),
        frequency=Frequency(stored["frequency"]) if stored.get("frequency") else None,
        origination_fee_percent=Decimal(str(stored.get("origination_fee_percent", "0"))),
        origination_fee_fixed=int(stored.get("origination_fee_fixed", 0)),
        grace_days=int(stored.get("grace_days", 0)),
        penalty_daily_rate=Decimal(str(stored.get("penalty_daily_rate", "0"))),
        fines=tuple(Fine(int(f["days_past_due"]), int(f["amount"])) for f in stored.get("fines", ())),
        after_due=AfterDue(stored.get("after_due", "continue")),
        extension_days=tuple(int(d) for d in stored.get("extension_days", ())),
        extension_fee_percent=Decimal(str(stored.get("extension_fee_percent", "0"))),
        extension_requires_interest_paid=bool(stored.get("extension_requires_interest_paid", True)),
        max_extensions=int(stored.get("max_extensions", 0)),
        interest_rounding=InterestRounding(stored.get("interest_rounding", "cumulative")),
        caps=Caps(
            daily_cost_share=_decimal_or_none(caps.get("daily_cost_share")),
            total_cost_share=_decimal_or_none(caps.get("total_cost_share")),
            default_fees_total=caps.get("default_fees_total"),
            penalty_total_share=_decimal_or_none(caps.get("penalty_total_share")),
            penalty_per_delay_share=_decimal_or_none(caps.get("penalty_per_delay_share")),
            max_extensions=caps.get("max_extensions"),
            max_failed_debits=caps.get("max_failed_debits"),
        ),
    )


def caps_to_stored(caps: Caps) -> dict[str, Any]:
    """Caps as a product version stores them (the inverse of what `terms_from_stored` reads)."""
    return {
        name: (str(value) if isinstance(value, Decimal) else value)
        for name, value in vars(caps).items()
        if value is not None
    }
