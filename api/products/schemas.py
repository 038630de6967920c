"""Product terms as the API takes them, and their translation to the domain's `ProductTerms`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.money import Amount, CurrencyCode, DecimalString
from domain.lending.products import ProductTerms, terms_from_stored


class FineBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days_past_due: int = Field(gt=0)
    amount: int = Field(gt=0)


class CapsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    daily_cost_share: DecimalString | None = None
    total_cost_share: DecimalString | None = None
    default_fees_total: int | None = Field(default=None, ge=0)
    penalty_total_share: DecimalString | None = None
    penalty_per_delay_share: DecimalString | None = None
    max_extensions: int | None = Field(default=None, ge=0)
    max_failed_debits: int | None = Field(default=None, ge=0)


class TermsBody(BaseModel):
    """Rates are fractions per day written as strings ("0.008" is 0.8% a day); amounts are minor units."""

    model_config = ConfigDict(extra="forbid")
    principal_min: int
    principal_max: int
    principal_step: int
    term_min_days: int
    term_max_days: int
    daily_rate: DecimalString
    repayment: Literal["single", "annuity", "declining"] = "single"
    frequency: Literal["weekly", "fortnightly", "monthly"] | None = None
    origination_fee_percent: DecimalString = "0"
    origination_fee_fixed: int = 0
    grace_days: int = 0
    penalty_daily_rate: DecimalString = "0"
    fines: list[FineBody] = Field(default_factory=list, max_length=20)
    after_due: Literal["continue", "stop", "penalty_only"] = "continue"
    extension_days: list[int] = Field(default_factory=list, max_length=20)
    extension_fee_percent: DecimalString = "0"
    extension_requires_interest_paid: bool = True
    max_extensions: int = 0
    caps: CapsBody | None = None

    def to_terms(self, currency: str) -> ProductTerms:
        return terms_from_stored(self.model_dump(mode="json"), currency)


class NewProduct(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")
    name: str = Field(min_length=1, max_length=200)
    currency: CurrencyCode


class Segment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_repaid_loans: int = Field(default=0, ge=0)
    max_repaid_loans: int | None = Field(default=None, ge=0)


class NewVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    valid_from: datetime
    terms: TermsBody
    profile: Literal["uk_fca_hcstc", "ua_2023"] | None = None
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
    principal_min: int
    principal_max: int
    principal_step: int
    term_min_days: int
    term_max_days: int
    daily_rate: str
    repayment: str


class OfferList(BaseModel):
    data: list[OfferView]
    has_more: bool = False


class QuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: uuid.UUID
    principal: int = Field(gt=0)
    term_days: int = Field(gt=0, le=3650)


class InstalmentView(BaseModel):
    due_date: date
    principal: int
    interest: int
    fees: int
    total: int


class QuoteView(BaseModel):
    product_id: uuid.UUID
    product_version: int
    principal: Amount
    interest: Amount
    fees: Amount
    total_due: Amount
    start_date: date
    due_date: date
    apr: str
    daily_rate: str
    schedule: list[InstalmentView]
