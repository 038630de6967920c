"""What servicing workflows and activities pass each other. Dates are `date`s: on the wire they are ISO strings,
the same JSON as when they were typed `str`, so recorded histories replay unchanged."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel


class CobUntil(BaseModel):
    until: date | None = None  # None: the day that just ended in the market's time zone
    parts: int = 1  # loan id ranges each date's close splits into (histories recorded before had one)


class CobDates(BaseModel):
    dates: list[date]


class CobDay(BaseModel):
    business_date: date
    workflow_id: str = ""
    parts: int = 1


class CobRange(BaseModel):
    """One part of a date's close: the loans with ids in (after, through]."""

    business_date: date
    after: str
    through: str


class CobBegun(BaseModel):
    status: str  # new | running | closed


class CobProgress(BaseModel):
    loans: int = 0
    entries: int = 0


class CobFinish(BaseModel):
    business_date: date
    loans_accrued: int
    projections_refreshed: int
    notices: int


class CobResult(BaseModel):
    business_date: date
    status: str
    loans_accrued: int = 0
    entries: int = 0
    projections_refreshed: int = 0
    notices: int = 0


class CobRunProgress(BaseModel):
    dates: list[date]
    closed: int


class CobRunResult(BaseModel):
    closed: list[CobResult]


class LoanRef(BaseModel):
    loan_id: str


class LoanWorkflowState(BaseModel):
    """What a loan's workflow holds right now (its `state` query): a status change not yet handled, and how many
    notices wait their turn."""

    status: str | None
    pending_notices: int


class NoticeKind(StrEnum):
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    PROMISE_DUE = "promise_due"


class LoanNotice(BaseModel):
    """Close of business tells a loan's workflow what the new business date means for it.

    On the wire (and in the projections table) the notice is one text, `<kind>[:<detail>]`, which recorded workflow
    histories hold; code reads it through the typed properties below, never by splitting it."""

    business_date: date
    notice: str  # due_soon | due_today | overdue:<days past due> | promise_due:<promise id>

    @classmethod
    def of(cls, on: date, kind: NoticeKind, detail: int | None = None) -> LoanNotice:
        return cls(business_date=on, notice=kind.value if detail is None else f"{kind.value}:{detail}")

    @property
    def kind(self) -> NoticeKind:
        return NoticeKind(self.notice.partition(":")[0])

    @property
    def days_past_due(self) -> int:
        """For an overdue notice: how many days past due the loan is on the business date."""
        return int(self.notice.partition(":")[2]) if self.kind is NoticeKind.OVERDUE else 0

    @property
    def promise_id(self) -> int | None:
        return int(self.notice.partition(":")[2]) if self.kind is NoticeKind.PROMISE_DUE else None


class LoanSettled(BaseModel):
    status: str  # the loan's status after a payment or a correction


class Reminder(BaseModel):
    loan_id: str
    notice: str
    business_date: date


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
    paused_until: date | None = None


class StepInput(BaseModel):
    loan_id: str
    step: str  # "<day>:<action>"
    business_date: date


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
    business_date: date


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
    value_date: date | None = None
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


# Workflow ids: one per business object, so that a second start finds the running process.
COB_RUNNER_ID = "cob-run"


def cob_workflow_id(business_date: date) -> str:
    return f"cob-{business_date.isoformat()}"


def loan_workflow_id(loan_id: str) -> str:
    return f"loan-{loan_id}"


def loan_payment_workflow_id(payment_id: str) -> str:
    return f"loan-payment-{payment_id}"
