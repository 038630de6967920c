"""Inputs and results of the origination activities and workflow; imported by workflows, so nothing heavy here.

Personal data never enters these models (Temporal keeps them in its history): activities read it from the
database by application id.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

APPLICATION_FINAL_STATUSES = frozenset({"rejected", "disbursed", "cancelled", "expired", "failed"})


class OriginationTimings(BaseModel):
    """Every wait of the process, from configuration, so tests run them in seconds."""

    score_wait_seconds: int = 600
    review_target_seconds: int = 3600
    review_expiry_seconds: int = 3 * 86400
    offer_expiry_seconds: int = 3 * 86400
    signing_code_ttl_seconds: int = 300
    signing_max_attempts: int = 3
    signing_max_codes: int = 3
    signing_wait_seconds: int = 86400
    card_wait_seconds: int = 86400
    disbursement_wait_seconds: int = 3600
    disbursement_attempts: int = 3
    # After the first wait for the provider's callback, its record is polled this many times, the wait doubling up
    # to `payout_poll_max_seconds`, before the payout is cancelled or handed to staff.
    payout_status_polls: int = 6
    payout_poll_max_seconds: int = 6 * 3600
    provider_attempts: int = 3  # tries of one bureau or scoring call before falling back
    postback_retry_seconds: int = 60  # first retry of a refused CPA postback; it doubles up to an hour
    message_send_attempts: int = 5
    message_status_wait_seconds: int = 900


class LoanApplicationInput(BaseModel):
    application_id: str
    bureaus: list[str] = Field(default_factory=list)  # primary first, then fallbacks
    timings: OriginationTimings = Field(default_factory=OriginationTimings)
    task_queue: str = "lendflow"


class ApplicationRef(BaseModel):
    application_id: str


class BureauRequest(BaseModel):
    application_id: str
    bureau: str


class CheckResult(BaseModel):
    """One check's outcome as the workflow needs it: `received`, `pending` (a callback will come) or
    `unavailable`. Details stay in the database (credit_checks)."""

    kind: str
    provider: str
    status: str
    reference: str | None = None
    score: int | None = None


class ScoreSignal(BaseModel):
    provider: str
    reference: str
    score: int | None
    event_id: str


class DecideInput(BaseModel):
    application_id: str
    checks: list[CheckResult]


class DecisionResult(BaseModel):
    outcome: str  # approve | reject | review
    principal: int
    requested_principal: int
    principal_min: int
    principal_step: int
    borrower_reasons: list[str] = Field(default_factory=list)
    staff_reasons: list[str] = Field(default_factory=list)


class ReviewDecision(BaseModel):
    decision: str  # approve | reject
    principal: int | None = None
    reason: str
    staff_id: str


class RecordReview(BaseModel):
    application_id: str
    review: ReviewDecision


class SignAttempt(BaseModel):
    """A signing attempt as the workflow keeps it: the code's keyed digest (hex), never the code; the address as a
    keyed digest (`api.dependencies.client_address`). `code` is read only from attempts made before 2026-11-29."""

    code: str | None = None
    code_digest: str | None = None
    client_address: str
    signer_id: str


class VerifyCode(BaseModel):
    application_id: str
    attempt: SignAttempt
    max_attempts: int


class SignResult(BaseModel):
    status: str  # signed | invalid_code | expired_code | exhausted
    attempts_left: int = 0


class SendCode(BaseModel):
    application_id: str
    ttl_seconds: int
    max_codes: int


class MessageRef(BaseModel):
    message_ids: list[str]


class CardLink(BaseModel):
    payment_method: str


class LinkCard(BaseModel):
    application_id: str
    payment_method: str


class CardResult(BaseModel):
    status: str  # linked | declined
    card_id: str | None = None
    failure_code: str | None = None


class DisbursementRequest(BaseModel):
    application_id: str
    card_id: str
    attempt: int


class DisbursementOutcome(BaseModel):
    # processing | paid | failed | pending | canceled | unknown (the provider has no record of the payout)
    status: str
    reference: str | None = None
    failure_code: str | None = None


class PayoutCase(BaseModel):
    """Staff's view of a payout the workflow could not settle by itself (`case` None closes it)."""

    application_id: str
    case: str | None  # unknown_at_provider | unconfirmed
    reference: str | None = None


class PayoutResolution(BaseModel):
    """A staff member's command for a payout in flight: ask the provider again (`reconcile`), ask it to pay again
    under the same idempotency key (`retry`), or cancel it at the provider (`cancel`)."""

    action: str  # reconcile | retry | cancel
    staff_id: str
    reason: str


class PayoutResolutionResult(BaseModel):
    action: str
    status: str  # what the provider says now: paid | failed | pending | canceled | unknown | processing
    reference: str | None = None
    application_status: str


class DisbursementSignal(BaseModel):
    status: str  # paid | failed
    reference: str
    failure_code: str | None = None
    event_id: str


class BookLoan(BaseModel):
    application_id: str
    reference: str
    card_id: str


class BookedLoan(BaseModel):
    loan_id: str
    entry_id: int
    postback: bool = False  # a CPA network brought the borrower and is owed a conversion postback


class CancelRequest(BaseModel):
    reason: str
    by: str  # staff:<id> or borrower:<id>


class EndApplication(BaseModel):
    application_id: str
    status: str  # rejected | cancelled | expired | failed
    failure_code: str | None = None
    reason: str | None = None


class Notify(BaseModel):
    application_id: str
    template: str  # approved | rejected | funded | cancelled | expired | failed | signing_code


class PostbackInput(BaseModel):
    application_id: str
    first_retry_seconds: int = 60


class ApplicationState(BaseModel):
    status: str
    escalated: bool = False
    loan_id: str | None = None


# Workflow ids: one per business object, so that a second start finds the running process.
def application_workflow_id(application_id: str) -> str:
    return f"loan-application-{application_id}"


def postback_workflow_id(application_id: str) -> str:
    return f"cpa-postback-{application_id}"
