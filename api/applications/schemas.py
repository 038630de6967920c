"""Applications as the API takes and shows them. Personal data goes in and is never shown back in full."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from api.constrained import RequestBody
from api.phone import PhoneNumber


class Applicant(RequestBody):
    full_name: str = Field(min_length=1, max_length=200)
    national_id: str = Field(pattern=r"^[A-Za-z0-9-]{4,32}$")
    birth_date: date
    phone: PhoneNumber
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    monthly_income: StrictInt = Field(ge=0, le=10**12, description="minor units of the product's currency")


class Source(RequestBody):
    """The CPA network (and its click id) that brought the borrower, for the conversion postback."""

    network: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    click_id: str = Field(min_length=1, max_length=200)


class NewApplication(RequestBody):
    """The term in days, or as a number of instalments (`term_periods`, counted from the open business date);
    `first_repayment_date` gives the first instalment a date of the borrower's choosing, as a quote does."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "product_id": "9b1f2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                    "principal": 20000,
                    "term_days": 30,
                    "device_fingerprint": "my-laptop-0001",
                    "applicant": {
                        "full_name": "Alice Example",
                        "national_id": "AB123456",
                        "birth_date": "1990-05-01",
                        "phone": "+447700900123",
                        "monthly_income": 250000,
                    },
                }
            ]
        }
    )

    product_id: uuid.UUID
    principal: StrictInt = Field(gt=0, le=10**12)
    term_days: StrictInt | None = Field(default=None, gt=0, le=3650)
    term_periods: StrictInt | None = Field(default=None, gt=0, le=520)
    first_repayment_date: date | None = None
    applicant: Applicant
    device_fingerprint: str | None = Field(default=None, min_length=8, max_length=200)
    source: Source | None = None

    @model_validator(mode="after")
    def _one_term(self) -> NewApplication:
        if (self.term_days is None) == (self.term_periods is None):
            raise ValueError("give the term as exactly one of term_days or term_periods")
        return self


class OfferInstalment(BaseModel):
    due_date: date
    principal: int
    interest: int
    total: int


class OfferView(BaseModel):
    principal: int
    currency: str
    term_days: int
    interest: int
    fees: int
    total_due: int
    start_date: date | None = None  # the business date the loan starts on if paid out today (older offers lack it)
    due_date: date
    apr: str
    schedule: list[OfferInstalment] = Field(
        default_factory=list, description="the instalments (older offers lack them)"
    )


class ApplicationView(BaseModel):
    id: uuid.UUID
    status: str
    product_id: uuid.UUID
    principal: int
    term_days: int
    first_repayment_date: date | None = None
    currency: str
    offer: OfferView | None = None
    reasons: list[str] | None = None
    loan_id: uuid.UUID | None = None
    created_at: datetime


class ApplicationList(BaseModel):
    data: list[ApplicationView]
    has_more: bool = False


class SignBody(RequestBody):
    code: str = Field(pattern=r"^\d{6}$")


class SignView(BaseModel):
    status: str
    application: ApplicationView


class CardBody(RequestBody):
    payment_method: str | None = Field(
        default=None, min_length=3, max_length=255, description="a provider payment-method id (pm_...)"
    )
    setup_session: str | None = Field(
        default=None,
        min_length=3,
        max_length=255,
        description="or: the provider page's session the borrower came back from (`POST .../card-page`)",
    )

    @model_validator(mode="after")
    def _one_card(self) -> CardBody:
        if (self.payment_method is None) == (self.setup_session is None):
            raise ValueError("give exactly one of payment_method and setup_session")
        return self


class CardPageRequest(RequestBody):
    return_url: str = Field(
        pattern=r"^https?://", max_length=2000, description="where the provider sends the browser back"
    )
    cancel_url: str = Field(pattern=r"^https?://", max_length=2000)


class CardPageView(BaseModel):
    url: str = Field(description="the payment provider's page to send the borrower's browser to")


class AgreementView(BaseModel):
    application_id: uuid.UUID
    text: str = Field(description="the agreement as the borrower reads and signs it")
    document_hash: str = Field(description="SHA-256 of the text")
    pdf_hash: str | None = Field(default=None, description="SHA-256 of the PDF (`GET .../agreement.pdf`)")
    signed_at: datetime | None = None


class CancelBody(RequestBody):
    reason: str = Field(min_length=1, max_length=500)


class DecisionBody(RequestBody):
    decision: Literal["approve", "reject"]
    principal: StrictInt | None = Field(default=None, gt=0, le=10**12)
    reason: str = Field(min_length=1, max_length=1000)


class CheckView(BaseModel):
    kind: str
    provider: str
    reference: str
    status: str
    summary: dict[str, Any]
    created_at: datetime
    received_at: datetime | None


class StaffApplicationView(ApplicationView):
    user_id: uuid.UUID
    decision: dict[str, Any] | None = None
    failure_code: str | None = None
    escalated_at: datetime | None = None
    status_changed_at: datetime
    minutes_in_status: int
    checks: list[CheckView] = Field(default_factory=list)
    agreement: dict[str, Any] | None = None


class StaffApplicationList(BaseModel):
    data: list[StaffApplicationView]
    has_more: bool = False
