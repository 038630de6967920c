"""What servicing workflows and activities pass each other (dates travel as ISO strings)."""

from __future__ import annotations

from pydantic import BaseModel


class CobUntil(BaseModel):
    until: str | None = None  # None: the day that just ended in the market's time zone


class CobDates(BaseModel):
    dates: list[str]


class CobDay(BaseModel):
    business_date: str
    workflow_id: str = ""


class CobBegun(BaseModel):
    status: str  # new | running | closed


class CobProgress(BaseModel):
    loans: int = 0
    entries: int = 0


class CobFinish(BaseModel):
    business_date: str
    loans_accrued: int
    projections_refreshed: int
    notices: int


class CobResult(BaseModel):
    business_date: str
    status: str
    loans_accrued: int = 0
    entries: int = 0
    projections_refreshed: int = 0
    notices: int = 0


class CobRunResult(BaseModel):
    closed: list[CobResult]


class LoanRef(BaseModel):
    loan_id: str


class LoanNotice(BaseModel):
    """Close of business tells a loan's workflow what the new business date means for it."""

    business_date: str
    notice: str  # due_soon | due_today | overdue:<days past due> | promise_due:<promise id>


class LoanSettled(BaseModel):
    status: str  # the loan's status after a payment or a correction


class Reminder(BaseModel):
    loan_id: str
    notice: str
    business_date: str


class PaymentRef(BaseModel):
    payment_id: str


class PaymentOutcome(BaseModel):
    status: str  # succeeded | processing | failed
    reference: str | None = None
    failure_code: str | None = None


class PaymentWord(BaseModel):
    status: str
    reference: str
    failure_code: str | None = None
    event_id: str


class PaymentResult(BaseModel):
    payment_id: str
    loan_id: str
    status: str  # succeeded | failed
    loan_status: str | None = None
    failure_code: str | None = None


class FailPayment(BaseModel):
    payment_id: str
    failure_code: str


class LoanPaymentInput(BaseModel):
    payment_id: str
    loan_id: str
    confirm_wait_seconds: int = 1800


class CollectionsInput(BaseModel):
    loan_id: str
    days_past_due: int = 1


class CollectionsState(BaseModel):
    """What the ladder still has to do for the loan now, decided by an activity from the stored case."""

    loan_open: bool
    days_past_due: int
    steps: list[str]  # keys of the steps due and not done, in ladder order
    paused_until: str | None = None


class StepInput(BaseModel):
    loan_id: str
    step: str  # "<day>:<action>"
    business_date: str


class StepResult(BaseModel):
    step: str
    done: bool
    payment_id: str | None = None  # an automatic debit to run
    note: str | None = None


class DebitResult(BaseModel):
    loan_id: str
    step: str
    payment_id: str
    status: str
    failure_code: str | None = None


class PromiseCheck(BaseModel):
    loan_id: str
    promise_id: int
    business_date: str


class PromiseOutcome(BaseModel):
    status: str  # kept | broken | replaced


class LoanWorkflowInput(BaseModel):
    loan_id: str
    collections_id: str | None = None  # the collections workflow running for the loan, carried across continue-as-new
    pending: list[LoanNotice] = []


class LoanChangeInput(BaseModel):
    """A staff change to a loan: a write-off, or a backdated correction (a payment received with an earlier value
    date, a waiver, a rate changed from a date), recorded with who asked and why."""

    loan_id: str
    reference: str
    kind: str  # write_off | payment | waiver | rate_change | fee
    value_date: str | None = None
    amount: int | None = None
    component: str | None = None
    daily_rate: str | None = None
    actor_id: str
    actor_label: str
    reason: str


class LoanChangeResult(BaseModel):
    loan_id: str
    status: str
    entry_id: int | None = None
    replayed: bool = False
