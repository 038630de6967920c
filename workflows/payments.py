"""Top-ups and payouts: the provider's word decides, and a missing word has a defined end.

Top-up: charge the card; credit the wallet when the provider confirms (its webhook, relayed as a signal); a
declined charge changes no balance. Payout: hold the amount first, ask the provider to pay, then post the hold on
its success or void it on failure or when the wait runs out."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.payments import PaymentActivities
    from contracts.payments import (
        FailOperation,
        OperationRef,
        OperationResult,
        PayoutInput,
        ProviderOutcome,
        ProviderSignal,
        TopupInput,
    )

__all__ = ["PayoutWorkflow", "TopupWorkflow"]

PROVIDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=8,
    non_retryable_error_types=["not_found"],
)
LEDGER_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30))
CONFIRMED = frozenset({"succeeded", "paid"})


STEP_TIMEOUT = timedelta(seconds=60)


class _AwaitsProvider:
    """Shared by both workflows: the provider's callback arrives as a signal, possibly more than once. (Each
    workflow declares the signal itself; this holds what it received, per provider reference: only the word about
    the operation's own reference counts, whatever else reaches the workflow.)"""

    def __init__(self) -> None:
        self._words: dict[str, ProviderSignal] = {}

    def _hear(self, event: ProviderSignal) -> None:
        # The first final word about a reference wins; duplicates and late ones change nothing.
        self._words.setdefault(event.reference, event)

    async def _await_word(self, seconds: int, reference: str | None) -> ProviderSignal | None:
        key = reference or ""
        try:
            await workflow.wait_condition(lambda: key in self._words, timeout=timedelta(seconds=seconds))
        except TimeoutError:
            return None
        return self._words[key]


@workflow.defn(name="Topup")
class TopupWorkflow(_AwaitsProvider):
    @workflow.signal(name="provider_event")
    def provider_event(self, event: ProviderSignal) -> None:
        self._hear(event)

    @workflow.run
    async def run(self, data: TopupInput) -> OperationResult:
        ref = OperationRef(operation_id=data.operation_id)
        try:
            charged = await workflow.execute_activity_method(
                PaymentActivities.charge_for_topup,
                ref,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
            )
        except ActivityError:
            return await self._fail(data.operation_id, "provider_unavailable")
        if charged.status == "failed":
            return await self._fail(data.operation_id, charged.failure_code or "declined")
        word = await self._await_word(data.confirm_wait_seconds, charged.reference)
        # No callback in time: the charge's own answer decides (a webhook endpoint may be misconfigured).
        confirmed = (word.status if word is not None else charged.status) in CONFIRMED
        if not confirmed:
            return await self._fail(data.operation_id, (word.failure_code if word else None) or "not_confirmed")
        return await workflow.execute_activity_method(
            PaymentActivities.credit_topup, ref, start_to_close_timeout=STEP_TIMEOUT, retry_policy=LEDGER_RETRY
        )

    async def _fail(self, operation_id: str, code: str) -> OperationResult:
        return await workflow.execute_activity_method(
            PaymentActivities.fail_operation,
            FailOperation(operation_id=operation_id, failure_code=code),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=LEDGER_RETRY,
        )


@workflow.defn(name="Payout")
class PayoutWorkflow(_AwaitsProvider):
    def __init__(self) -> None:
        super().__init__()
        self._hold: ProviderOutcome | None = None

    @workflow.signal(name="provider_event")
    def provider_event(self, event: ProviderSignal) -> None:
        self._hear(event)

    @workflow.update(name="hold_result")
    async def hold_result(self) -> ProviderOutcome:
        """Answers once the amount is held (or refused), so the API can say `insufficient_funds` at once."""
        await workflow.wait_condition(lambda: self._hold is not None)
        assert self._hold is not None
        return self._hold

    @workflow.run
    async def run(self, data: PayoutInput) -> OperationResult:
        ref = OperationRef(operation_id=data.operation_id)
        held = await workflow.execute_activity_method(
            PaymentActivities.hold_for_payout, ref, start_to_close_timeout=STEP_TIMEOUT, retry_policy=LEDGER_RETRY
        )
        self._hold = held
        if held.status == "failed":
            await workflow.wait_condition(workflow.all_handlers_finished)
            return OperationResult(operation_id=data.operation_id, status="failed", failure_code=held.failure_code)
        try:
            requested = await workflow.execute_activity_method(
                PaymentActivities.request_payout, ref, start_to_close_timeout=STEP_TIMEOUT, retry_policy=PROVIDER_RETRY
            )
        except ActivityError:
            return await self._release(data.operation_id, "provider_unavailable")
        if requested.status == "failed":
            return await self._release(data.operation_id, requested.failure_code or "declined")
        word = await self._await_word(data.confirm_wait_seconds, requested.reference)
        if word is None:
            # No callback in time: ask the provider (and cancel a payout still pending) before releasing the hold,
            # so a payout that did go out is never left with its money back in the wallet.
            found = await workflow.execute_activity_method(
                PaymentActivities.resolve_unconfirmed_payout,
                ref,
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
            )
            word = ProviderSignal(
                status=found.status,
                reference=found.reference or "",
                failure_code=found.failure_code,
                event_id="provider-record",
            )
        if word.status not in CONFIRMED:
            return await self._release(data.operation_id, word.failure_code or "not_confirmed")
        result = await workflow.execute_activity_method(
            PaymentActivities.settle_payout, ref, start_to_close_timeout=STEP_TIMEOUT, retry_policy=LEDGER_RETRY
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result

    async def _release(self, operation_id: str, code: str) -> OperationResult:
        """Compensation for the hold: the reserved amount becomes spendable again."""
        result = await workflow.execute_activity_method(
            PaymentActivities.fail_operation,
            FailOperation(operation_id=operation_id, failure_code=code),
            start_to_close_timeout=STEP_TIMEOUT,
            retry_policy=LEDGER_RETRY,
        )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result
