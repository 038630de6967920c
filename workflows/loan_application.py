"""A loan application from receipt to a funded loan or a clear end (`loan-application-<id>`).

Checks run in parallel (anti-fraud, a bureau with fallbacks, scoring that may answer by callback); the rules
decide or hand the case to an underwriter; the borrower accepts, signs with an SMS code and links a card; the
provider pays out and, only on its confirmation, the loan is booked. People steer it through updates (validators
refuse commands that do not fit the current step), providers through signals; every wait has a timer and a
defined end, and staff can cancel at any step before money is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from config.task_queues import Family
from workflows.loan_servicing import LoanWorkflow
from workflows.patches import PatchBundle
from workflows.queues import FAMILY_QUEUES, child_queue

with workflow.unsafe.imports_passed_through():
    from temporalio.common import TypedSearchAttributes

    from activities.origination import OriginationActivities
    from contracts.origination import (
        APPLICATION_FINAL_STATUSES,
        ApplicationRef,
        ApplicationState,
        BookLoan,
        BureauRequest,
        CancelRequest,
        CardLink,
        CardResult,
        CheckResult,
        DecideInput,
        DecisionResult,
        DisbursementOutcome,
        DisbursementRequest,
        DisbursementSignal,
        EndApplication,
        LinkCard,
        LoanApplicationInput,
        Notify,
        OriginationTimings,
        PayoutCase,
        PayoutResolution,
        PayoutResolutionResult,
        PostbackInput,
        RecordReview,
        ReviewDecision,
        ScoreSignal,
        SendCode,
        SignAttempt,
        SignResult,
        VerifyCode,
        postback_workflow_id,
    )
    from contracts.servicing import LoanWorkflowInput, loan_workflow_id
    from contracts.visibility import APPLICATION_STATUS, CUSTOMER_ID, SEARCH_ATTRIBUTES_PATCH, attributes

__all__ = ["CpaPostbackWorkflow", "LoanApplicationWorkflow"]

DB_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30))
PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
    non_retryable_error_types=["not_found"],
)
# A payout failure these codes name may pass with a fresh attempt; any other (account closed, ...) will not.
RETRYABLE_PAYOUT_FAILURES = frozenset({"could_not_process", "insufficient_funds", "provider_unavailable"})
PAYOUT_ACTIONS = frozenset({"reconcile", "retry", "cancel"})
# Before the payout is asked for, a cancellation compensates cleanly; once asked, money may be in flight.
CANCELLABLE = frozenset({"received", "checking", "manual_review", "offered", "awaiting_signature", "awaiting_card"})


def reviewed_by_rules(decision: DecisionResult) -> bool:
    return not any(reason.startswith("underwriter:") for reason in decision.staff_reasons)


STEP_TIMEOUT = timedelta(seconds=60)
# Steps that only read and write lendflow's own database run as local activities from this patch on (see `_step`).
LOCAL_STEPS_PATCH = "local-steps"
PAYOUT_RECONCILIATION_PATCH = "payout-reconciliation"
# Runs started from here on record one marker for the four patches an application meets (workflows/patches.py).
ORIGINATION_BUNDLE = "origination-2026-11"
BUNDLED_PATCHES = frozenset({SEARCH_ATTRIBUTES_PATCH, LOCAL_STEPS_PATCH, PAYOUT_RECONCILIATION_PATCH, FAMILY_QUEUES})
Input = TypeVar("Input")
Output = TypeVar("Output")


def _refusal(err: ActivityError) -> ApplicationError:
    """An activity's business refusal, re-raised so the update that ran it fails with the same type."""
    cause = err.cause
    if isinstance(cause, ApplicationError):
        return ApplicationError(cause.message, type=cause.type, non_retryable=True)
    return ApplicationError(str(err), type="provider_unavailable", non_retryable=True)


@workflow.defn(name="LoanApplication")
class LoanApplicationWorkflow:
    def __init__(self) -> None:
        self._patches = PatchBundle(ORIGINATION_BUNDLE, BUNDLED_PATCHES)
        self._current = "received"  # the status, as `_status` reads and writes it
        # Set while an activity that moves the read model (the API's view) to a new status runs: its outcome is not
        # known here yet, so commands are let through the validators and re-checked once it is. A client that saw
        # the new status in the API is never refused for being quick.
        self._in_flux = False
        self._escalated = False
        self._loan_id: str | None = None
        self._decision: DecisionResult | None = None
        self._score_word: ScoreSignal | None = None
        self._payout_words: dict[str, DisbursementSignal] = {}
        self._review: ReviewDecision | None = None
        self._accepted = False
        self._signed = False
        self._exhausted = False
        self._card: CardResult | None = None
        self._cancel: CancelRequest | None = None
        self._data = LoanApplicationInput(application_id="")
        self._lock = asyncio.Lock()  # one sign attempt or card link at a time
        # Staff commands for the payout in flight: taken by the process loop, answered back to the update.
        self._payout_in_flight = False
        self._payout_command: PayoutResolution | None = None
        self._payout_answer: PayoutResolutionResult | None = None
        self._payout_lock = asyncio.Lock()

    # --- what callers see and say ---------------------------------------------------------------------------------

    @workflow.query(name="state")
    def state(self) -> ApplicationState:
        return ApplicationState(status=self._status, escalated=self._escalated, loan_id=self._loan_id)

    @workflow.signal(name="score_received")
    def score_received(self, word: ScoreSignal) -> None:
        if self._score_word is None:  # the first word wins; a replayed callback changes nothing
            self._score_word = word

    @workflow.signal(name="provider_event")
    def provider_event(self, word: DisbursementSignal) -> None:
        self._payout_words.setdefault(word.reference, word)

    def _require(self, *statuses: str, strict: bool = False) -> None:
        if self._status not in statuses and (strict or not self._in_flux):
            raise ApplicationError(f"the application is {self._status}, not {' or '.join(statuses)}", type="conflict")

    async def _settled(self, *statuses: str) -> None:
        """In handlers: wait out a status change in progress, then hold the command to the status it needs."""
        await workflow.wait_condition(lambda: not self._in_flux)
        self._require(*statuses, strict=True)

    async def _moved_on_from(self, status: str) -> None:
        await workflow.wait_condition(lambda: self._status != status and not self._in_flux)

    async def _moving(
        self,
        activity: Callable[[Any, Input], Awaitable[Output]],
        data: Input,
        retry: RetryPolicy = DB_RETRY,
        *,
        local: bool = False,
    ) -> Output:
        """Runs an activity that writes the application's next status, with commands held meanwhile."""
        self._in_flux = True
        try:
            if local:
                return await self._step(activity, data)
            return await workflow.execute_activity_method(
                activity, data, start_to_close_timeout=STEP_TIMEOUT, retry_policy=retry
            )
        finally:
            self._in_flux = False

    async def _step(self, activity: Callable[[Any, Input], Awaitable[Output]], data: Input) -> Output:
        """A step that only reads and writes lendflow's database, run as a local activity: inside the workflow task
        that asks for it, recorded as one marker, where an activity costs an activity task, three history events
        and another workflow task (origination's CPU is mostly this bookkeeping; docs/origination.md). Steps that
        call a provider stay activities: their retries and latency belong on the server's timers. Histories from
        before the patch run every step as an activity, as they did."""
        if self._patches.patched(LOCAL_STEPS_PATCH):
            return await workflow.execute_local_activity_method(
                activity, data, start_to_close_timeout=STEP_TIMEOUT, retry_policy=DB_RETRY
            )
        return await workflow.execute_activity_method(
            activity, data, start_to_close_timeout=STEP_TIMEOUT, retry_policy=DB_RETRY
        )

    @workflow.update(name="review")
    async def review(self, decision: ReviewDecision) -> ApplicationState:
        await self._settled("manual_review")
        self._check_review(decision)  # again: the rules' decision may have been in flux when it was validated
        if self._review is None:
            self._review = decision
        await self._moved_on_from("manual_review")
        return self.state()

    @review.validator
    def _validate_review(self, decision: ReviewDecision) -> None:
        self._require("manual_review")
        self._check_review(decision)

    def _check_review(self, decision: ReviewDecision) -> None:
        if decision.decision not in ("approve", "reject"):
            raise ApplicationError("decision must be approve or reject", type="validation_error")
        if decision.decision == "approve" and decision.principal is not None and self._decision is not None:
            d = self._decision
            if not d.principal_min <= decision.principal <= d.requested_principal or (
                (decision.principal - d.principal_min) % d.principal_step
            ):
                raise ApplicationError(
                    f"principal must be {d.principal_min}..{d.requested_principal} (what was asked) in steps of"
                    f" {d.principal_step}",
                    type="validation_error",
                )

    @workflow.update(name="accept")
    async def accept(self) -> ApplicationState:
        await self._settled("offered")
        self._accepted = True
        await self._moved_on_from("offered")
        return self.state()

    @accept.validator
    def _validate_accept(self) -> None:
        self._require("offered")

    @workflow.update(name="sign")
    async def sign(self, attempt: SignAttempt) -> SignResult:
        async with self._lock:
            await self._settled("awaiting_signature")
            try:
                result = await self._moving(
                    OriginationActivities.verify_signing_code,
                    VerifyCode(
                        application_id=self._data.application_id,
                        attempt=attempt,
                        max_attempts=self._data.timings.signing_max_attempts,
                    ),
                    local=True,
                )
            except ActivityError as err:
                raise _refusal(err) from err
            if result.status == "signed":
                self._signed, self._status = True, "awaiting_card"
            elif result.status == "exhausted":
                self._exhausted = True
        if result.status == "exhausted":
            await self._moved_on_from("awaiting_signature")
        return result

    @sign.validator
    def _validate_sign(self, attempt: SignAttempt) -> None:
        self._require("awaiting_signature")

    @workflow.update(name="resend_code")
    async def resend_code(self) -> ApplicationState:
        async with self._lock:
            await self._settled("awaiting_signature")
            await self._send_code()
            return self.state()

    @resend_code.validator
    def _validate_resend(self) -> None:
        self._require("awaiting_signature")

    @workflow.update(name="link_card")
    async def link_card(self, card: CardLink) -> CardResult:
        async with self._lock:
            await self._settled("awaiting_card")
            try:
                result = await self._moving(
                    OriginationActivities.link_card,
                    LinkCard(application_id=self._data.application_id, payment_method=card.payment_method),
                    PROVIDER_RETRY,
                )
            except ActivityError as err:
                raise _refusal(err) from err
            if result.status == "linked":
                self._card, self._status = result, "disbursing"
        return result

    @link_card.validator
    def _validate_link_card(self, card: CardLink) -> None:
        self._require("awaiting_card")

    @workflow.update(name="resolve_payout")
    async def resolve_payout(self, command: PayoutResolution) -> PayoutResolutionResult:
        """A staff member reconciles, retries or cancels the payout in flight; answers what the provider says now."""
        async with self._payout_lock:
            self._payout_command = command
            await workflow.wait_condition(lambda: self._payout_answer is not None or not self._payout_in_flight)
            answer = self._payout_answer or PayoutResolutionResult(
                action=command.action, status="settled", application_status=self._status
            )
            self._payout_answer, self._payout_command = None, None
            return answer

    @resolve_payout.validator
    def _validate_resolve_payout(self, command: PayoutResolution) -> None:
        if command.action not in PAYOUT_ACTIONS:
            raise ApplicationError(f"action must be one of {sorted(PAYOUT_ACTIONS)}", type="validation_error")
        if not self._payout_in_flight:
            raise ApplicationError(f"the application is {self._status}: no payout is in flight", type="conflict")

    @workflow.update(name="cancel")
    async def cancel(self, request: CancelRequest) -> ApplicationState:
        await workflow.wait_condition(lambda: not self._in_flux)
        if self._status not in CANCELLABLE:
            raise ApplicationError(f"the application is {self._status}: it can no longer be cancelled", type="conflict")
        if self._cancel is None:
            self._cancel = request
        await workflow.wait_condition(lambda: self._status in APPLICATION_FINAL_STATUSES)
        return self.state()

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        if self._status not in CANCELLABLE:
            raise ApplicationError(f"the application is {self._status}: it can no longer be cancelled", type="conflict")

    # --- the process ----------------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, data: LoanApplicationInput) -> ApplicationState:
        self._data = data
        self._patches.take()
        timings = data.timings
        self._status = "checking"  # written to the read model by the anti-fraud check, the first to run
        checks = await asyncio.gather(self._fraud(), self._bureau(data.bureaus), self._score(timings))
        if self._cancel is not None:
            return await self._end("cancelled", "cancelled", reason=self._cancel.reason)
        decided = await self._moving(
            OriginationActivities.decide_application,
            DecideInput(application_id=data.application_id, checks=list(checks)),
            local=True,
        )
        self._decision = decided
        if decided.outcome == "review":
            self._status = "manual_review"
            reviewed = await self._await_review(timings)
            if reviewed is None:
                return await self._ended_by_wait("expired", "review_expired")
            decided = reviewed
        if decided.outcome == "reject":
            await self._end("rejected", "rejected_by_rules" if reviewed_by_rules(decided) else "rejected_by_staff")
            await self._notify("rejected")
            return await self._finish()
        self._status = "offered"
        await self._notify("lower_amount" if "lower_amount" in decided.borrower_reasons else "approved")
        if not await self._until(lambda: self._accepted, timings.offer_expiry_seconds):
            return await self._ended_by_wait("expired", "offer_expired")
        await self._step(OriginationActivities.prepare_agreement, ApplicationRef(application_id=data.application_id))
        try:
            await self._send_code()
        except ApplicationError:
            return await self._end("failed", "signing_code_not_sent")
        self._status = "awaiting_signature"
        if not await self._until(lambda: self._signed or self._exhausted, timings.signing_wait_seconds):
            return await self._ended_by_wait("expired", "not_signed")
        if self._exhausted:
            return await self._end("cancelled", "signing_attempts_exhausted")
        if not await self._until(lambda: self._card is not None, timings.card_wait_seconds):
            return await self._ended_by_wait("expired", "no_card")
        return await self._disburse(timings)

    async def _until(self, condition: Callable[[], bool], seconds: int) -> bool:
        """True once `condition` holds; False when the time runs out or staff cancel first."""
        try:
            await workflow.wait_condition(
                lambda: condition() or self._cancel is not None, timeout=timedelta(seconds=seconds)
            )
        except TimeoutError:
            return False
        return self._cancel is None

    async def _fraud(self) -> CheckResult:
        return await self._step(
            OriginationActivities.check_fraud, ApplicationRef(application_id=self._data.application_id)
        )

    async def _bureau(self, bureaus: list[str]) -> CheckResult:
        """The primary bureau, retried; then each fallback; none answering is a finding the rules handle."""
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=1),
            backoff_coefficient=2.0,
            maximum_attempts=self._data.timings.provider_attempts,
            non_retryable_error_types=["not_found"],
        )
        for bureau in bureaus:
            try:
                result = await workflow.execute_activity_method(
                    OriginationActivities.fetch_bureau_report,
                    BureauRequest(application_id=self._data.application_id, bureau=bureau),
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=retry,
                )
            except ActivityError:
                workflow.logger.info("bureau %s unavailable for %s", bureau, self._data.application_id)
                continue
            return result
        return CheckResult(kind="bureau", provider="none", status="unavailable")

    async def _score(self, timings: OriginationTimings) -> CheckResult:
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_attempts=timings.provider_attempts
        )
        try:
            asked = await workflow.execute_activity_method(
                OriginationActivities.request_score,
                ApplicationRef(application_id=self._data.application_id),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=retry,
            )
        except ActivityError:
            return CheckResult(kind="score", provider="scoring", status="unavailable")
        if asked.status != "pending":
            return asked
        try:
            await workflow.wait_condition(
                lambda: self._score_word is not None or self._cancel is not None,
                timeout=timedelta(seconds=timings.score_wait_seconds),
            )
        except TimeoutError:
            return asked.model_copy(update={"status": "unavailable"})
        word = self._score_word
        if word is None or word.score is None:
            return asked.model_copy(update={"status": "unavailable"})
        return asked.model_copy(update={"status": "received", "score": word.score, "reference": word.reference})

    async def _await_review(self, timings: OriginationTimings) -> DecisionResult | None:
        """Waits for an underwriter; past the target the case is escalated; past the expiry it ends."""
        ready = await self._until(lambda: self._review is not None, timings.review_target_seconds)
        if not ready and self._cancel is None:
            self._escalated = True
            await self._step(
                OriginationActivities.escalate_review, ApplicationRef(application_id=self._data.application_id)
            )
            remaining = max(1, timings.review_expiry_seconds - timings.review_target_seconds)
            ready = await self._until(lambda: self._review is not None, remaining)
        if not ready or self._review is None:
            return None
        result = await self._moving(
            OriginationActivities.record_review,
            RecordReview(application_id=self._data.application_id, review=self._review),
            local=True,
        )
        return result

    def _message_retry(self) -> RetryPolicy:
        return RetryPolicy(
            initial_interval=timedelta(seconds=1),
            maximum_interval=timedelta(seconds=30),
            maximum_attempts=self._data.timings.message_send_attempts,
            non_retryable_error_types=["MessageNotFound", "limit_exceeded", "conflict", "not_found"],
        )

    async def _send_code(self) -> None:
        """A new signing code, sent by SMS from the activity itself (the first one moves the application to
        `awaiting_signature`)."""
        timings = self._data.timings
        try:
            await self._moving(
                OriginationActivities.send_signing_code,
                SendCode(
                    application_id=self._data.application_id,
                    ttl_seconds=timings.signing_code_ttl_seconds,
                    max_codes=timings.signing_max_codes,
                ),
                self._message_retry(),
            )
        except ActivityError as err:
            raise _refusal(err) from err

    async def _notify(self, template: str) -> None:
        """Created and handed to the provider by one step; delivery statuses come back through the provider's
        webhook, which records them. A borrower's message that cannot be sent does not stop the application.

        Runs from the origination bundle on send it as a local activity: nothing waits on a notification, and as an
        activity each cost six history events (its task and the workflow task its completion wakes), about 11 ms of
        the engine's CPU apiece — more than sending it (docs/origination.md). A slow provider holds the workflow
        task (heartbeated by the SDK) instead of a server timer; retries keep the same policy."""
        message = Notify(application_id=self._data.application_id, template=template)
        try:
            if self._patches.take():
                await workflow.execute_local_activity_method(
                    OriginationActivities.notify_borrower,
                    message,
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=self._message_retry(),
                )
            else:
                await workflow.execute_activity_method(
                    OriginationActivities.notify_borrower,
                    message,
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=self._message_retry(),
                )
        except ActivityError:
            workflow.logger.warning("could not send %s to the borrower of %s", template, self._data.application_id)

    async def _disburse(self, timings: OriginationTimings) -> ApplicationState:
        # Staff commands on the payout are taken from here until the loan is booked or the application ends.
        self._payout_in_flight = True
        try:
            return await self._disburse_attempts(timings)
        finally:
            self._payout_in_flight = False

    async def _disburse_attempts(self, timings: OriginationTimings) -> ApplicationState:
        assert self._card is not None and self._card.card_id is not None
        failure = "not_confirmed"
        for attempt in range(1, timings.disbursement_attempts + 1):
            try:
                asked = await workflow.execute_activity_method(
                    OriginationActivities.request_disbursement,
                    DisbursementRequest(
                        application_id=self._data.application_id,
                        card_id=self._card.card_id,
                        attempt=attempt,
                    ),
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=PROVIDER_RETRY,
                )
            except ActivityError:
                failure = "provider_unavailable"
                continue
            outcome = asked if asked.status == "failed" else await self._payout_outcome(asked, timings, attempt)
            if outcome.status == "paid":
                # Settled: a staff command arriving while the loan is booked is refused (409), not left waiting on
                # a payout that is no longer in flight.
                self._payout_in_flight = False
                return await self._book(outcome)
            failure = outcome.failure_code or "not_confirmed"
            if outcome.status != "failed" or failure not in RETRYABLE_PAYOUT_FAILURES:
                break
        await self._end("failed", failure)
        await self._notify("failed")
        return self.state()

    async def _payout_outcome(
        self, asked: DisbursementOutcome, timings: OriginationTimings, attempt: int
    ) -> DisbursementOutcome:
        if not self._patches.patched(PAYOUT_RECONCILIATION_PATCH):
            return await self._payout_outcome_before_reconciliation(asked, timings)
        return await self._reconciled_payout(asked, timings, attempt)

    async def _reconciled_payout(
        self, asked: DisbursementOutcome, timings: OriginationTimings, attempt: int
    ) -> DisbursementOutcome:
        """The provider's callback; while it is late, the provider's record, polled with a doubling wait. A payout
        the provider has no record of is asked for again under the same idempotency key (it pays once). When the
        polls run out the payout is cancelled at the provider; if even that cannot settle it, staff get a case and
        the payout waits for them (reconcile, retry, cancel) or for the provider's word, never failing silently."""
        wait, polls, case = timings.disbursement_wait_seconds, 0, None
        while True:
            reference = asked.reference or ""
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda ref=reference: ref in self._payout_words or self._payout_command is not None,  # type: ignore[misc]
                    timeout=None if case else timedelta(seconds=wait),
                )
            if reference in self._payout_words:
                word = self._payout_words[reference]
                await self._payout_case(None, reference, case)
                return DisbursementOutcome(
                    status="paid" if word.status in ("paid", "succeeded") else "failed",
                    reference=reference,
                    failure_code=word.failure_code,
                )
            command, self._payout_command = self._payout_command, None
            if command is not None:
                settled, asked, case = await self._staff_payout_command(command, asked, attempt, case)
                if settled is not None:
                    return settled
                if command.action == "retry":
                    wait, polls = timings.disbursement_wait_seconds, 0
                continue
            polls += 1
            found = await self._payout_status(asked)
            if found.status in ("paid", "failed"):
                return found
            if found.status == "unknown" and polls < timings.payout_status_polls:
                asked = await self._ask_payout_again(asked, attempt)
                if asked.status == "failed":
                    return asked
                continue
            if polls < timings.payout_status_polls:
                wait = min(wait * 2, timings.payout_poll_max_seconds)
                continue
            cancelled = await self._cancel_payout(asked)
            if cancelled.status == "paid":
                return cancelled
            if cancelled.status in ("canceled", "failed"):
                return DisbursementOutcome(status="failed", reference=reference, failure_code="not_confirmed")
            case = "unknown_at_provider" if cancelled.status == "unknown" else "unconfirmed"
            await self._payout_case(case, reference, None)

    async def _staff_payout_command(
        self, command: PayoutResolution, asked: DisbursementOutcome, attempt: int, case: str | None
    ) -> tuple[DisbursementOutcome | None, DisbursementOutcome, str | None]:
        """(the payout's end if the command settled it, the payout now in flight, the open case)."""
        reference = asked.reference or ""
        settled: DisbursementOutcome | None = None
        if command.action == "reconcile":
            found = await self._payout_status(asked)
            status = found.status
            if found.status in ("paid", "failed"):
                settled = found
            elif found.status == "unknown" and case != "unknown_at_provider":
                case = "unknown_at_provider"
                await self._payout_case(case, reference, None)
        elif command.action == "retry":
            asked = await self._ask_payout_again(asked, attempt)
            status = asked.status
            if asked.status == "failed":
                settled = asked
            else:
                await self._payout_case(None, asked.reference, case)
                case = None
        else:
            cancelled = await self._cancel_payout(asked)
            status = cancelled.status
            if cancelled.status == "paid":
                settled = cancelled
            elif cancelled.status != "pending":
                settled = DisbursementOutcome(status="failed", reference=reference, failure_code="cancelled_by_staff")
        if settled is not None:
            await self._payout_case(None, reference, case)
        self._payout_answer = PayoutResolutionResult(
            action=command.action,
            status=status,
            reference=asked.reference,
            application_status="disbursing"
            if settled is None
            else ("disbursed" if settled.status == "paid" else "failed"),
        )
        return settled, asked, case

    async def _payout_status(self, asked: DisbursementOutcome) -> DisbursementOutcome:
        try:
            found = await workflow.execute_activity_method(
                OriginationActivities.disbursement_status,
                asked,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
            )
        except ActivityError:
            return asked.model_copy(update={"status": "pending"})
        return found

    async def _ask_payout_again(self, asked: DisbursementOutcome, attempt: int) -> DisbursementOutcome:
        """The same attempt, so the same idempotency key: the provider pays at most once whatever it remembers."""
        assert self._card is not None and self._card.card_id is not None
        try:
            again = await workflow.execute_activity_method(
                OriginationActivities.request_disbursement,
                DisbursementRequest(
                    application_id=self._data.application_id,
                    card_id=self._card.card_id,
                    attempt=attempt,
                ),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
            )
        except ActivityError:
            return asked
        return again

    async def _cancel_payout(self, asked: DisbursementOutcome) -> DisbursementOutcome:
        try:
            cancelled = await workflow.execute_activity_method(
                OriginationActivities.cancel_disbursement,
                asked,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
            )
        except ActivityError:
            return asked.model_copy(update={"status": "pending"})
        return cancelled

    async def _payout_case(self, case: str | None, reference: str | None, open_case: str | None) -> None:
        """Opens a case (or closes the open one; closing when none is open writes nothing)."""
        if case is None and open_case is None:
            return
        await self._step(
            OriginationActivities.set_payout_case,
            PayoutCase(application_id=self._data.application_id, case=case, reference=reference),
        )

    async def _payout_outcome_before_reconciliation(
        self, asked: DisbursementOutcome, timings: OriginationTimings
    ) -> DisbursementOutcome:
        """Workflows started before payout reconciliation (`workflow.patched("payout-reconciliation")`): the
        callback; if late, the provider's record; if still pending after a second wait, the payout is cancelled.
        Remove once no application that started before 2026-11-29 is still disbursing (docs/origination.md)."""
        reference = asked.reference or ""
        for _ in range(2):
            try:
                await workflow.wait_condition(
                    lambda: reference in self._payout_words,
                    timeout=timedelta(seconds=timings.disbursement_wait_seconds),
                )
                word = self._payout_words[reference]
                return DisbursementOutcome(
                    status="paid" if word.status in ("paid", "succeeded") else "failed",
                    reference=reference,
                    failure_code=word.failure_code,
                )
            except TimeoutError:
                found = await workflow.execute_activity_method(
                    OriginationActivities.disbursement_status,
                    asked,
                    start_to_close_timeout=STEP_TIMEOUT,
                    retry_policy=PROVIDER_RETRY,
                )
                if found.status != "pending":
                    return found
        cancelled = await workflow.execute_activity_method(
            OriginationActivities.cancel_disbursement,
            asked,
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=PROVIDER_RETRY,
        )
        if cancelled.status == "paid":
            return cancelled
        return DisbursementOutcome(status="failed", reference=reference, failure_code="not_confirmed")

    async def _book(self, outcome: DisbursementOutcome) -> ApplicationState:
        assert self._card is not None and self._card.card_id is not None
        booked = await self._step(
            OriginationActivities.book_loan,
            BookLoan(
                application_id=self._data.application_id, reference=outcome.reference or "", card_id=self._card.card_id
            ),
        )
        self._loan_id, self._status = booked.loan_id, "disbursed"
        # The loan lives on in its own workflow, beyond this one.
        await workflow.start_child_workflow(
            LoanWorkflow.run,
            LoanWorkflowInput(loan_id=booked.loan_id),
            id=loan_workflow_id(booked.loan_id),
            task_queue=child_queue(Family.SERVICING, patched=self._patches.patched(FAMILY_QUEUES)),
            search_attributes=self._loan_attributes(booked.loan_id),
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        await self._notify("funded")
        if booked.postback:
            await workflow.start_child_workflow(
                CpaPostbackWorkflow.run,
                PostbackInput(
                    application_id=self._data.application_id,
                    first_retry_seconds=self._data.timings.postback_retry_seconds,
                ),
                id=postback_workflow_id(self._data.application_id),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        return await self._finish()

    async def _ended_by_wait(self, status: str, code: str) -> ApplicationState:
        if self._cancel is not None:
            return await self._end("cancelled", "cancelled", reason=self._cancel.reason)
        await self._end(status, code)
        await self._notify(status)
        return await self._finish()

    def _loan_attributes(self, loan_id: str) -> TypedSearchAttributes | None:
        """The loan's own workflow is found by its loan and its customer (the application's)."""
        if not self._patches.patched(SEARCH_ATTRIBUTES_PATCH):
            return None
        customer = workflow.info().typed_search_attributes.get(CUSTOMER_ID)
        return attributes(loan_id=loan_id, customer_id=customer)

    @property
    def _status(self) -> str:
        return self._current

    @_status.setter
    def _status(self, status: str) -> None:
        """Every status the application reaches is also its search attribute, so operators find applications by
        where they stand (`LendflowApplicationStatus="manual_review"`)."""
        self._current = status
        if self._patches.patched(SEARCH_ATTRIBUTES_PATCH):
            workflow.upsert_search_attributes([APPLICATION_STATUS.value_set(status)])

    async def _end(self, status: str, code: str, *, reason: str | None = None) -> ApplicationState:
        await self._moving(
            OriginationActivities.end_application,
            EndApplication(application_id=self._data.application_id, status=status, failure_code=code, reason=reason),
            local=True,
        )
        self._status = status
        if status == "cancelled":
            await self._notify("cancelled")
        return await self._finish()

    async def _finish(self) -> ApplicationState:
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state()


@workflow.defn(name="CpaPostback")
class CpaPostbackWorkflow:
    """Tells the CPA network about the conversion, retrying (up to an hour apart) until it accepts, for a week."""

    @workflow.run
    async def run(self, data: PostbackInput) -> None:
        await workflow.execute_activity_method(
            OriginationActivities.send_cpa_postback,
            data,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=timedelta(days=7),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=data.first_retry_seconds),
                maximum_interval=timedelta(hours=1),
                backoff_coefficient=2.0,
                non_retryable_error_types=["not_found"],
            ),
        )
