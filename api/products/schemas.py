"""Product terms as the API takes them, and their translation to the domain's `ProductTerms`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from api.constrained import Days, MinorUnits, MinorUnitsOrZero, PositiveDays, RequestBody
from api.money import Amount, CurrencyCode, DecimalString
from domain.lending.interest import DayCount, InterestRate, RatePeriod
from domain.lending.products import (
    AfterDue,
    Frequency,
    InterestRounding,
    ProductTerms,
    RepaymentKind,
    terms_from_stored,
)
from domain.lending.profiles import ProfileName


class FineBody(RequestBody):
    days_past_due: PositiveDays
    amount: MinorUnits


class CapsBody(RequestBody):
    daily_cost_share: DecimalString | None = None
    total_cost_share: DecimalString | None = None
    default_fees_total: MinorUnitsOrZero | None = None
    penalty_total_share: DecimalString | None = None
    penalty_per_delay_share: DecimalString | None = None
    max_extensions: Annotated[StrictInt, Field(ge=0, le=100)] | None = None
    max_failed_debits: Annotated[StrictInt, Field(ge=0, le=100)] | None = None


class InterestRateBody(RequestBody):
    """A nominal rate as the lender states it: a fraction ("0.12" is 12%) per day, week, month or year, and the
    day-count convention for monthly and yearly rates (docs/lending.md)."""

    rate: DecimalString
    per: RatePeriod = RatePeriod.YEAR
    day_count: DayCount = DayCount.ACTUAL_365_FIXED

    @classmethod
    def of(cls, rate: InterestRate) -> InterestRateBody:
        return cls(rate=format(rate.value, "f"), per=rate.period, day_count=rate.day_count)


class TermsBody(RequestBody):
    """Interest is either `interest_rate` (a rate per day, week, month or year with its day count) or, as before,
    `daily_rate` (a fraction per calendar day: "0.008" is 0.8% a day). Rates and shares are fractions written as
    strings; fee fields named `*_percent` are percentages of principal; amounts are minor units."""

    principal_min: MinorUnits
    principal_max: MinorUnits
    principal_step: MinorUnits
    term_min_days: PositiveDays
    term_max_days: PositiveDays
    daily_rate: DecimalString | None = None
    interest_rate: InterestRateBody | None = None
    interest_rounding: InterestRounding = InterestRounding.CUMULATIVE
    repayment: RepaymentKind = RepaymentKind.SINGLE
    frequency: Frequency | None = None
    origination_fee_percent: DecimalString = "0"
    origination_fee_fixed: MinorUnitsOrZero = 0
    grace_days: Days = 0
    penalty_daily_rate: DecimalString = "0"
    fines: list[FineBody] = Field(default_factory=list, max_length=20)
    after_due: AfterDue = AfterDue.CONTINUE
    extension_days: list[PositiveDays] = Field(default_factory=list, max_length=20)
    extension_fee_percent: DecimalString = "0"
    extension_requires_interest_paid: bool = True
    max_extensions: Annotated[StrictInt, Field(ge=0, le=100)] = 0
    caps: CapsBody | None = None

    @model_validator(mode="after")
    def _one_rate(self) -> TermsBody:
        if (self.daily_rate is None) == (self.interest_rate is None):
            raise ValueError("give the interest as exactly one of daily_rate or interest_rate")
        return self

    def to_terms(self, currency: str) -> ProductTerms:
        return terms_from_stored(self.model_dump(mode="json"), currency)


class NewProduct(RequestBody):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")
    name: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode


class Segment(RequestBody):
    min_repaid_loans: Annotated[StrictInt, Field(ge=0, le=10_000)] = 0
    max_repaid_loans: Annotated[StrictInt, Field(ge=0, le=10_000)] | None = None


class NewVersion(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "valid_from": "2026-12-01T00:00:00Z",
                    "profile": "uk_fca_hcstc",
                    "terms": {
                        "principal_min": 5000,
                        "principal_max": 100000,
                        "principal_step": 1000,
                        "term_min_days": 7,
                        "term_max_days": 60,
                        "daily_rate": "0.008",
                        "extension_days": [7, 14],
                        "max_extensions": 2,
                    },
                }
            ]
        }
    )

    valid_from: datetime
    terms: TermsBody
    profile: ProfileName | None = None
    segment: Segment = Field(default_factory=Segment)


class VersionView(BaseModel):
    id: uuid.UUID
    version: int
    valid_from: datetime
    profile: str | None
    segment: Segment
    terms: dict[str, Any]


class ProductView(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    currency: str
    versions: list[VersionView] = Field(default_factory=list)


class OfferView(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    currency: str
    version: int
    principal_min: MinorUnits
    principal_max: MinorUnits
    principal_step: MinorUnits
    term_min_days: PositiveDays
    term_max_days: PositiveDays
    interest_rate: InterestRateBody
    daily_rate: str = Field(description="the most one day's interest comes to, per unit of principal")
    repayment: str


class OfferList(BaseModel):
    data: list[OfferView]
    has_more: bool = False


class QuoteRequest(RequestBody):
    """The term in days, or as a number of instalments (`term_periods`); by default the loan is disbursed on the
    open business date and its first instalment falls one frequency later."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"product_id": "9b1f2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d", "principal": 10000, "term_days": 30}]
        }
    )

    product_id: uuid.UUID
    principal: MinorUnits
    term_days: int | None = Field(default=None, gt=0, le=3650)
    term_periods: int | None = Field(default=None, gt=0, le=520)
    disbursement_date: date | None = None
    first_repayment_date: date | None = None

    @model_validator(mode="after")
    def _one_term(self) -> QuoteRequest:
        if (self.term_days is None) == (self.term_periods is None):
            raise ValueError("give the term as exactly one of term_days or term_periods")
        return self


class InstalmentView(BaseModel):
    due_date: date
    principal: int
    interest: int
    fees: int
    total: int


class QuoteWarning(BaseModel):
    code: str
    text: str


class QuoteView(BaseModel):
    product_id: uuid.UUID
    product_version: int
    principal: Amount
    interest: Amount
    fees: Amount
    total_due: Amount
    start_date: date
    term_days: int
    due_date: date
    apr: str = Field(description="annual percentage rate of charge, in percent")
    interest_rate: InterestRateBody
    daily_rate: str = Field(description="the most one day's interest comes to, per unit of principal")
    schedule: list[InstalmentView]
    warnings: list[QuoteWarning] = Field(
        default_factory=list, description="what the product's regulatory profile requires the borrower be told"
    )
