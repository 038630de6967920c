"""Commission processes: the distributor of a real-time or daily project (`commission-distributor-<project>`), a
period's close (`commission-period-<project>-<period>`, started by the project's Schedule through
`CommissionCloseDue` or by staff), and a recalculation waiting for its approval
(`commission-recalculation-<id>`). The maths is set-based in the activities; these only sequence and wait."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.commissions import CommissionActivities
    from contracts.commissions import (
        ApprovalRequest,
        ApproveRecalculation,
        CloseDueInput,
        DistributeInput,
        DistributorInput,
        PeriodCloseInput,
        PeriodCloseResult,
        RecalculationInput,
        RecalculationOutcome,
        RecalculationRef,
        period_workflow_id,
    )
    from contracts.payments import PayoutInput, payout_workflow_id
    from domain.affiliate.periods import period_of

from workflows.payments import PayoutWorkflow
from workflows.queues import DISTRIBUTION_PRIORITY, bulk_queue

__all__ = [
    "CommissionCloseDueWorkflow",
    "CommissionDistributorWorkflow",
    "CommissionPeriodWorkflow",
    "CommissionRecalculationWorkflow",
]

RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["conflict", "validation_error", "not_found"],
)
ROUNDS_BEFORE_NEW_RUN = 500
DISTRIBUTION_LANES = "distribution-lanes"  # workflow.patched marker: distribution in lanes side by side


async def distribute_in_lanes(batch: DistributeInput, parts: int) -> tuple[int, int]:
    """Every waiting event of `batch`'s kind, taken in `parts` lanes side by side until each is empty: the lanes'
    batches go to the bulk queue, where each worker process takes as many at once as it has bulk slots, so a
    project's distribution spreads over the processes that poll it. Answers the events and the amount distributed."""

    async def lane(part: int) -> tuple[int, int]:
        events = amount = 0
        while True:
            done = await workflow.execute_activity_method(
                CommissionActivities.distribute_commissions,
                batch.model_copy(update={"part": part, "parts": parts}),
                task_queue=bulk_queue(),
                priority=DISTRIBUTION_PRIORITY,
                start_to_close_timeout=timedelta(minutes=10),
                retry_policy=RETRY,
                heartbeat_timeout=timedelta(minutes=2),
            )
            events, amount = events + done.events, amount + done.amount
            if not done.more:
                return events, amount

    taken = await asyncio.gather(*(lane(part) for part in range(parts)))
    return sum(e for e, _ in taken), sum(a for _, a in taken)


@workflow.defn(name="CommissionDistributor")
class CommissionDistributorWorkflow:
    """Takes a project's new events in batches for as long as the project lives: a real-time project as soon as
    ingestion nudges it (or after `wait_seconds` at the latest), a daily one after each UTC midnight."""

    def __init__(self) -> None:
        self._nudged = False

    @workflow.signal(name="events_arrived")
    def events_arrived(self) -> None:
        self._nudged = True

    @workflow.run
    async def run(self, data: DistributorInput) -> None:
        for _ in range(ROUNDS_BEFORE_NEW_RUN):
            self._nudged = False
            if data.parts > 1 and workflow.patched(DISTRIBUTION_LANES):
                await distribute_in_lanes(DistributeInput(project=data.project, limit=data.batch_size), data.parts)
            else:
                done = await workflow.execute_activity_method(
                    CommissionActivities.distribute_commissions,
                    DistributeInput(project=data.project, limit=data.batch_size),
                    start_to_close_timeout=timedelta(minutes=10),
                    retry_policy=RETRY,
                    heartbeat_timeout=timedelta(minutes=2),
                )
                if done.more:
                    continue
            if data.mode == "daily":
                now = workflow.now()
                midnight = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
                await workflow.sleep(midnight - now)
            else:
                await workflow.wait_condition(lambda: self._nudged, timeout=timedelta(seconds=data.wait_seconds))
            if workflow.info().is_continue_as_new_suggested():
                break
        workflow.continue_as_new(data)


@workflow.defn(name="CommissionPeriod")
class CommissionPeriodWorkflow:
    @workflow.run
    async def run(self, data: PeriodCloseInput) -> PeriodCloseResult:
        begun = await workflow.execute_activity_method(
            CommissionActivities.begin_period_close,
            data,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RETRY,
            heartbeat_timeout=timedelta(minutes=2),
        )
        if begun.status == "closed":
            return PeriodCloseResult(project=data.project, period=data.period, status="already_closed")
        events = amount = 0
        waiting = DistributeInput(
            project=data.project, limit=data.batch_size, before=begun.ends_at, posted_period=data.period
        )
        if data.parts > 1 and workflow.patched(DISTRIBUTION_LANES):
            events, amount = await distribute_in_lanes(waiting, data.parts)
        while data.parts <= 1:  # what is still waiting for the period goes into it, in batches
            done = await workflow.execute_activity_method(
                CommissionActivities.distribute_commissions,
                waiting,
                start_to_close_timeout=timedelta(minutes=10),
                retry_policy=RETRY,
                heartbeat_timeout=timedelta(minutes=2),
            )
            events, amount = events + done.events, amount + done.amount
            if not done.more:
                break
        statements = await workflow.execute_activity_method(
            CommissionActivities.finish_period_close,
            data,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RETRY,
            heartbeat_timeout=timedelta(minutes=2),
        )
        notified = await workflow.execute_activity_method(
            CommissionActivities.notify_statements,
            data,
            start_to_close_timeout=timedelta(minutes=60),
            retry_policy=RETRY,
            heartbeat_timeout=timedelta(minutes=2),
        )
        payouts = await workflow.execute_activity_method(
            CommissionActivities.prepare_period_payouts,
            data,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RETRY,
            heartbeat_timeout=timedelta(minutes=2),
        )
        for operation_id in payouts.operation_ids:  # each pays on its own, beyond the close
            await workflow.start_child_workflow(
                PayoutWorkflow.run,
                PayoutInput(operation_id=operation_id, confirm_wait_seconds=data.payout_confirm_wait_seconds),
                id=payout_workflow_id(operation_id),
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        return PeriodCloseResult(
            project=data.project,
            period=data.period,
            status="closed",
            events=events,
            amount=amount,
            statements=statements,
            notified=notified,
            payouts=len(payouts.operation_ids),
        )


@workflow.defn(name="CommissionCloseDue")
class CommissionCloseDueWorkflow:
    """What a project's Schedule starts: the close of the period that just ended, under its own id."""

    @workflow.run
    async def run(self, data: CloseDueInput) -> PeriodCloseResult:
        length = await workflow.execute_activity_method(
            CommissionActivities.project_period_length,
            data,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RETRY,
            heartbeat_timeout=timedelta(minutes=2),
        )
        current = period_of(workflow.now(), length)
        ended = period_of(current.starts_at - timedelta(microseconds=1), length)
        return await workflow.execute_child_workflow(
            CommissionPeriodWorkflow.run,
            PeriodCloseInput(
                project=data.project,
                period=ended.key,
                payout_confirm_wait_seconds=data.payout_confirm_wait_seconds,
                parts=data.parts,
            ),
            id=period_workflow_id(data.project, ended.key),
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )


@workflow.defn(name="CommissionRecalculation")
class CommissionRecalculationWorkflow:
    """Computes the preview, then waits for an admin's or accountant's approval (an update that answers with what
    was posted) until `approval_wait_seconds`, when it expires. Approved once, it ends: a second approval finds no
    process to approve and changes nothing."""

    def __init__(self) -> None:
        self._outcome: RecalculationOutcome | None = None
        self._approving = False
        self._status = "computing"

    @workflow.query(name="status")
    def status(self) -> str:
        return self._status

    @workflow.run
    async def run(self, data: RecalculationInput) -> RecalculationOutcome:
        ref = RecalculationRef(recalculation_id=data.recalculation_id)
        preview = await workflow.execute_activity_method(
            CommissionActivities.compute_recalculation,
            ref,
            start_to_close_timeout=timedelta(minutes=30),
            retry_policy=RETRY,
            heartbeat_timeout=timedelta(minutes=2),
        )
        self._status = preview.status
        if preview.status != "previewed":
            return RecalculationOutcome(recalculation_id=data.recalculation_id, status=preview.status)
        try:
            await workflow.wait_condition(
                lambda: self._outcome is not None and self._outcome.status in ("posted", "unchanged"),
                timeout=timedelta(seconds=data.approval_wait_seconds),
            )
        except TimeoutError:
            await workflow.wait_condition(lambda: not self._approving)
            if self._outcome is None or self._outcome.status not in ("posted", "unchanged"):
                await workflow.execute_activity_method(
                    CommissionActivities.expire_recalculation,
                    ref,
                    start_to_close_timeout=timedelta(minutes=10),
                    retry_policy=RETRY,
                    heartbeat_timeout=timedelta(minutes=2),
                )
                self._status = "expired"
                return RecalculationOutcome(recalculation_id=data.recalculation_id, status="expired")
        await workflow.wait_condition(workflow.all_handlers_finished)
        assert self._outcome is not None
        return self._outcome

    @workflow.update(name="approve")
    async def approve(self, data: ApproveRecalculation) -> RecalculationOutcome:
        # The preview's row is committed a moment before its result reaches this workflow: an approval sent on
        # reading `previewed` waits for it here rather than being refused.
        await workflow.wait_condition(lambda: self._status != "computing")
        if self._status != "previewed" or self._approving:
            raise ApplicationError(f"the recalculation is {self._status}, not waiting for approval", type="conflict")
        self._approving = True
        try:
            request = ApprovalRequest(recalculation_id=self._id(), staff_id=data.staff_id)
            outcome = await workflow.execute_activity_method(
                CommissionActivities.post_recalculation,
                request,
                start_to_close_timeout=timedelta(minutes=30),
                retry_policy=RETRY,
                heartbeat_timeout=timedelta(minutes=2),
            )
        finally:
            self._approving = False
        self._outcome = outcome
        self._status = "previewed" if outcome.status == "changed" else outcome.status
        return outcome

    @approve.validator
    def _one_approval_at_a_time(self, data: ApproveRecalculation) -> None:
        if self._status not in ("computing", "previewed") or self._approving:
            raise ApplicationError(f"the recalculation is {self._status}, not waiting for approval", type="conflict")

    @staticmethod
    def _id() -> int:
        """From the workflow id (`commission-recalculation-<id>`), known from the first activation on."""
        return int(workflow.info().workflow_id.rsplit("-", 1)[1])
