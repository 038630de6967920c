"""Underwriting configuration: the rule set per product (`PUT /v1/staff/products/{id}/rules`, versioned: each
decision names the version it was made under) and the anti-fraud blacklist (`POST /v1/staff/blacklist`)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.constrained import RequestBody
from api.dependencies import Db, Resources, StaffAudit, StaffWith
from api.money import DecimalString
from api.phone import normalise_phone
from api.problems import Problem
from domain.lending.underwriting import WhenMissing, rules_from_stored
from store.repositories import applications, credit_checks
from store.repositories import products as product_store

router = APIRouter(prefix="/v1/staff", tags=["staff: underwriting"])


class ScoreBandBody(RequestBody):
    min_score: int = Field(ge=0, le=10_000)
    max_principal: int = Field(ge=0, le=10**12)


class RulesBody(RequestBody):
    """Fields left out keep the defaults in domain/lending/underwriting.py (CreditRules)."""

    min_age: int | None = Field(default=None, ge=14, le=120)
    max_age: int | None = Field(default=None, ge=14, le=120)
    min_monthly_income: int | None = Field(default=None, ge=0, le=10**12)
    max_repayment_to_income: DecimalString | None = None
    max_delinquencies_12m: int | None = Field(default=None, ge=0, le=10**12)
    max_worst_days_past_due: int | None = Field(default=None, ge=0, le=10**12)
    max_open_loans_elsewhere: int | None = Field(default=None, ge=0, le=10**12)
    reject_below_score: int | None = Field(default=None, ge=0, le=10**12)
    review_below_score: int | None = Field(default=None, ge=0, le=10**12)
    score_bands: list[ScoreBandBody] | None = Field(default=None, max_length=50)
    first_loan_max_principal: int | None = Field(default=None, gt=0, le=10**12)
    repeat_step: int | None = Field(default=None, ge=0, le=10**12)
    thin_file: WhenMissing | None = None
    bureau_unavailable: WhenMissing | None = None
    score_unavailable: WhenMissing | None = None
    max_other_applicants_per_device: int | None = Field(default=None, ge=0, le=10**12)
    max_applications_per_day: int | None = Field(default=None, ge=1, le=10**12)


class RuleSetView(BaseModel):
    product_id: uuid.UUID
    version: int
    rules: dict[str, Any]


@router.put("/products/{product_id}/rules", response_model=RuleSetView)
async def set_rules(
    product_id: uuid.UUID, body: RulesBody, staff: StaffWith(), db: Db, audit: StaffAudit
) -> RuleSetView:
    """A new version of the rules; applications decided from now on use it."""
    if await product_store.product(db, product_id) is None:
        raise Problem(404, "not_found", "no such product")
    stored = body.model_dump(mode="json", exclude_none=True)
    rules = rules_from_stored(stored)
    if rules.max_age < rules.min_age or rules.review_below_score < rules.reject_below_score:
        raise Problem(422, "validation_error", "min_age/max_age or the score thresholds are the wrong way round")
    if rules.max_repayment_to_income <= 0:
        raise Problem(422, "validation_error", "max_repayment_to_income must be positive")
    rule_set = await credit_checks.add_rule_set(db, product_id=product_id, rules=stored, staff_id=staff.id)
    await audit.record(
        "product.rules",
        target_type="product",
        target_id=str(product_id),
        details={"version": rule_set.version, "rules": stored},
    )
    return RuleSetView(product_id=product_id, version=rule_set.version, rules=rule_set.rules)


@router.get("/products/{product_id}/rules", response_model=RuleSetView)
async def read_rules(product_id: uuid.UUID, _: StaffWith("underwriter"), db: Db) -> RuleSetView:
    rule_set = await credit_checks.rule_set_in_force(db, product_id)
    if rule_set is None:
        raise Problem(404, "not_found", "this product uses the default rules (no rule set recorded)")
    return RuleSetView(product_id=product_id, version=rule_set.version, rules=rule_set.rules)


class BlacklistBody(RequestBody):
    kind: Literal["phone", "national_id", "device"]
    value: str = Field(min_length=4, max_length=200)
    reason: str = Field(min_length=1, max_length=500)


@router.post("/blacklist", status_code=204)
async def blacklist(
    body: BlacklistBody, staff: StaffWith("underwriter"), db: Db, resources: Resources, audit: StaffAudit
) -> None:
    """Applications naming this phone, national id or device are refused from now on (stored as keyed hashes)."""
    value = body.value
    if body.kind == "phone":
        try:
            value = normalise_phone(value)
        except ValueError as err:
            raise Problem(422, "validation_error", str(err)) from None
    await applications.add_to_blacklist(
        db, resources.cipher, kind=body.kind, value=value, reason=body.reason, staff_id=staff.id
    )
    await audit.record("blacklist.add", details={"kind": body.kind, "reason": body.reason})
