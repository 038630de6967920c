"""Close of business: `cob-<date>` closes one business date; a run (started by the daily Schedule or by staff up to a
date) closes every missing date in order, each as its own child, so a date is closed once whoever asks."""

from __future__ import annotations

from datetime import date, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy

with workflow.unsafe.imports_passed_through():
    from activities.close_of_business import CloseOfBusinessActivities
    from contracts.servicing import (
        CobDay,
        CobFinish,
        CobResult,
        CobRunProgress,
        CobRunResult,
        CobUntil,
        cob_workflow_id,
    )

__all__ = ["CobDayWorkflow", "CobRunWorkflow"]

RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=["conflict", "validation_error"],
)


@workflow.defn(name="CobDay")
class CobDayWorkflow:
    @workflow.run
    async def run(self, data: CobDay) -> CobResult:
        day = data.business_date
        ref = CobDay(business_date=day, workflow_id=workflow.info().workflow_id)
        begun = await workflow.execute_activity_method(
            CloseOfBusinessActivities.cob_begin, ref, start_to_close_timeout=timedelta(minutes=5), retry_policy=RETRY
        )
        if begun.status == "closed":
            return CobResult(business_date=day, status="already_closed")
        refreshed = await workflow.execute_activity_method(
            CloseOfBusinessActivities.cob_project,
            ref,
            start_to_close_timeout=timedelta(minutes=60),
            heartbeat_timeout=timedelta(seconds=120),
            retry_policy=RETRY,
        )
        accrued = await workflow.execute_activity_method(
            CloseOfBusinessActivities.cob_accrue,
            ref,
            start_to_close_timeout=timedelta(minutes=120),
            heartbeat_timeout=timedelta(seconds=120),
            retry_policy=RETRY,
        )
        notices = await workflow.execute_activity_method(
            CloseOfBusinessActivities.cob_notify,
            ref,
            start_to_close_timeout=timedelta(minutes=60),
            heartbeat_timeout=timedelta(seconds=120),
            retry_policy=RETRY,
        )
        await workflow.execute_activity_method(
            CloseOfBusinessActivities.cob_snapshot,
            ref,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RETRY,
        )
        await workflow.execute_activity_method(
            CloseOfBusinessActivities.cob_finish,
            CobFinish(business_date=day, loans_accrued=accrued.loans, projections_refreshed=refreshed, notices=notices),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RETRY,
        )
        return CobResult(
            business_date=day,
            status="closed",
            loans_accrued=accrued.loans,
            entries=accrued.entries,
            projections_refreshed=refreshed,
            notices=notices,
        )


@workflow.defn(name="CobRun")
class CobRunWorkflow:
    def __init__(self) -> None:
        self._dates: list[date] = []
        self._closed = 0

    @workflow.query(name="progress")
    def progress(self) -> CobRunProgress:
        """The dates this run closes and how many are done (the console's progress bar reads it)."""
        return CobRunProgress(dates=self._dates, closed=self._closed)

    @workflow.run
    async def run(self, data: CobUntil) -> CobRunResult:
        dates = await workflow.execute_activity_method(
            CloseOfBusinessActivities.cob_dates, data, start_to_close_timeout=timedelta(minutes=5), retry_policy=RETRY
        )
        self._dates = list(dates.dates)
        closed: list[CobResult] = []
        for day in dates.dates:
            result = await workflow.execute_child_workflow(
                CobDayWorkflow.run,
                CobDay(business_date=day),
                id=cob_workflow_id(day),
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
            closed.append(result)
            self._closed = len(closed)
        return CobRunResult(closed=closed)
