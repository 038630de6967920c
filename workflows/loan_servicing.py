"""A funded loan's workflows.

- `loan-<id>` lives as long as the loan is open: close of business tells it what each new business date means
  (due soon, due today, overdue thresholds, a promise's day); it reminds the borrower and hands overdue spells to a
  collections workflow. It continues as new when its history grows.
- `collections-<id>-<overdue since>` runs the product's ladder for one overdue spell, paused by promises to pay,
  until the loan is current again, repaid or written off.
- `loan-payment-<payment id>` charges the card and, on the provider's confirmation, applies the money through the
  loan book; a duplicated or late callback changes nothing."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, FailureError

from config.task_queues import Family
from workflows.queues import child_queue

with workflow.unsafe.imports_passed_through():
    from activities.loan_servicing import LoanServicingActivities
    from contracts.servicing import (
        CollectionsInput,
        DebitResult,
        FailPayment,
        LoanChangeInput,
        LoanChangeResult,
        LoanNotice,
        LoanPaymentInput,
        LoanRef,
        LoanSettled,
        LoanWorkflowInput,
        LoanWorkflowState,
        NoticeKind,
        PaymentRef,
        PaymentResult,
        PaymentWord,
        PromiseCheck,
        Reminder,
        StepInput,
        loan_payment_workflow_id,
        loan_workflow_id,
    )

__all__ = ["CollectionsWorkflow", "LoanChangeWorkflow", "LoanPaymentWorkflow", "LoanWorkflow"]

RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=["not_found", "validation_error"],
)
PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=8,
    non_retryable_error_types=["not_found"],
)
CONFIRMED = frozenset({"succeeded"})
CLOSED = frozenset({"repaid", "written_off"})
HISTORY_LIMIT = 2_000


async def tell_loan(loan_id: str, status: str | None) -> None:
    """The loan's workflow hears its new status (it ends when the loan is closed, and ends collections)."""
    if status is None:
        return
    try:
        await workflow.get_external_workflow_handle(loan_workflow_id(loan_id)).signal(
            "settled", LoanSettled(status=status)
        )
    except FailureError:  # the workflow has ended (or never ran)
        workflow.logger.info("loan workflow %s is not running", loan_id)


STEP_TIMEOUT = timedelta(seconds=60)


@workflow.defn(name="Loan")
class LoanWorkflow:
    def __init__(self) -> None:
        self._notices: list[LoanNotice] = []
        self._status: str | None = None

    @workflow.signal(name="notice")
    def notice(self, notice: LoanNotice) -> None:
        self._notices.append(notice)

    @workflow.signal(name="settled")
    def settled(self, settled: LoanSettled) -> None:
        self._status = settled.status

    @workflow.query(name="state")
    def state(self) -> LoanWorkflowState:
        return LoanWorkflowState(status=self._status, pending_notices=len(self._notices))

    @workflow.run
    async def run(self, data: LoanWorkflowInput) -> str:
        self._notices = [*data.pending, *self._notices]
        collections_id = data.collections_id
        while True:
            await workflow.wait_condition(lambda: bool(self._notices) or self._status is not None)
            if self._status is not None:
                status, self._status = self._status, None
                if collections_id is not None:
                    await self._tell_collections(collections_id, "settled", LoanSettled(status=status))
                    if status != "overdue":
                        collections_id = None
                if status in CLOSED:
                    return status
                continue
            notice = self._notices.pop(0)
            kind = notice.kind
            if kind in (NoticeKind.DUE_SOON, NoticeKind.DUE_TODAY):
                await workflow.execute_activity_method(
                    LoanServicingActivities.remind_borrower,
                    Reminder(loan_id=data.loan_id, notice=notice.notice, business_date=notice.business_date),
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=RETRY,
                )
            elif kind in (NoticeKind.OVERDUE, NoticeKind.PROMISE_DUE):
                if collections_id is None and kind is NoticeKind.OVERDUE:
                    since = notice.business_date + timedelta(days=1 - notice.days_past_due)
                    collections_id = f"collections-{data.loan_id}-{since.isoformat()}"
                    await workflow.start_child_workflow(
                        CollectionsWorkflow.run,
                        CollectionsInput(loan_id=data.loan_id, days_past_due=notice.days_past_due),
                        id=collections_id,
                        task_queue=child_queue(Family.COLLECTIONS),
                        parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    )
                if collections_id is not None:
                    await self._tell_collections(collections_id, "notice", notice)
            if workflow.info().get_current_history_length() > HISTORY_LIMIT and not self._notices:
                workflow.continue_as_new(LoanWorkflowInput(loan_id=data.loan_id, collections_id=collections_id))

    @staticmethod
    async def _tell_collections(workflow_id: str, signal: str, payload: object) -> None:
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal(signal, payload)
        except FailureError:  # the workflow has ended (or never ran)
            workflow.logger.info("collections workflow %s has ended", workflow_id)


@workflow.defn(name="Collections")
class CollectionsWorkflow:
    def __init__(self) -> None:
        self._notices: list[LoanNotice] = []
        self._settled: str | None = None

    @workflow.signal(name="notice")
    def notice(self, notice: LoanNotice) -> None:
        self._notices.append(notice)

    @workflow.signal(name="settled")
    def settled(self, settled: LoanSettled) -> None:
        if settled.status != "overdue":
            self._settled = settled.status

    @workflow.run
    async def run(self, data: CollectionsInput) -> str:
        loan = LoanRef(loan_id=data.loan_id)
        while self._settled is None:
            await workflow.wait_condition(lambda: bool(self._notices) or self._settled is not None)
            if self._settled is not None:
                break
            notice = self._notices.pop(0)
            promise_id = notice.promise_id
            if promise_id is not None:
                await workflow.execute_activity_method(
                    LoanServicingActivities.check_promise,
                    PromiseCheck(loan_id=data.loan_id, promise_id=promise_id, business_date=notice.business_date),
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=RETRY,
                )
            state = await workflow.execute_activity_method(
                LoanServicingActivities.collections_state, loan, start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY
            )
            if not state.loan_open or state.days_past_due == 0:
                break
            for step in state.steps:
                if not await self._run_step(data.loan_id, step, notice.business_date):
                    break
        await workflow.execute_activity_method(
            LoanServicingActivities.close_collections, loan, start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY
        )
        if self._settled is None:
            # The ladder itself may have ended the loan (a write-off step, a debit that repaid it): its workflow
            # hears it from here, as it hears payments from theirs.
            final = await workflow.execute_activity_method(
                LoanServicingActivities.loan_status, loan, start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY
            )
            if final.status != "overdue":
                await tell_loan(data.loan_id, final.status)
        return self._settled or "closed"

    async def _run_step(self, loan_id: str, step: str, business_date: date) -> bool:
        """Run one ladder step; False when the loan left collections meanwhile."""
        result = await workflow.execute_activity_method(
            LoanServicingActivities.collections_step,
            StepInput(loan_id=loan_id, step=step, business_date=business_date),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        if result.payment_id is not None:
            paid = await workflow.execute_child_workflow(
                LoanPaymentWorkflow.run,
                LoanPaymentInput(payment_id=result.payment_id, loan_id=loan_id),
                id=loan_payment_workflow_id(result.payment_id),
                task_queue=child_queue(Family.SERVICING),
            )
            await workflow.execute_activity_method(
                LoanServicingActivities.record_debit,
                DebitResult(
                    loan_id=loan_id,
                    step=step,
                    payment_id=result.payment_id,
                    status=paid.status,
                    failure_code=paid.failure_code,
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=RETRY,
            )
            if paid.loan_status != "overdue":
                return False
        return self._settled is None


@workflow.defn(name="LoanPayment")
class LoanPaymentWorkflow:
    def __init__(self) -> None:
        self._word: PaymentWord | None = None

    @workflow.signal(name="provider_event")
    def provider_event(self, word: PaymentWord) -> None:
        if self._word is None:  # the first final word wins; duplicates and late ones change nothing
            self._word = word

    @workflow.run
    async def run(self, data: LoanPaymentInput) -> PaymentResult:
        ref = PaymentRef(payment_id=data.payment_id)
        try:
            charged = await workflow.execute_activity_method(
                LoanServicingActivities.charge_loan_payment,
                ref,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
            )
        except ActivityError:
            return await self._fail(data, "provider_unavailable")
        if charged.status == "failed":
            return await self._fail(data, charged.failure_code or "declined")
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._word is not None, timeout=timedelta(seconds=data.confirm_wait_seconds)
            )
        # No callback in time: the charge's own answer decides (a webhook endpoint may be misconfigured).
        status = self._word.status if self._word is not None else charged.status
        if status not in CONFIRMED:
            return await self._fail(data, (self._word.failure_code if self._word else None) or "not_confirmed")
        result = await workflow.execute_activity_method(
            LoanServicingActivities.apply_loan_payment, ref, start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY
        )
        await tell_loan(data.loan_id, result.loan_status)
        return result

    async def _fail(self, data: LoanPaymentInput, code: str) -> PaymentResult:
        result = await workflow.execute_activity_method(
            LoanServicingActivities.fail_loan_payment,
            FailPayment(payment_id=data.payment_id, failure_code=code),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=RETRY,
        )
        return result


@workflow.defn(name="LoanChange")
class LoanChangeWorkflow:
    """A staff change, run where activities run (the loan book), then told to the loan's workflow."""

    @workflow.run
    async def run(self, data: LoanChangeInput) -> LoanChangeResult:
        result = await workflow.execute_activity_method(
            LoanServicingActivities.change_loan, data, start_to_close_timeout=STEP_TIMEOUT, retry_policy=RETRY
        )
        await tell_loan(data.loan_id, result.status)
        return result
