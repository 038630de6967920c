"""Close of business: `cob-<date>` closes one business date; a run (started by the daily Schedule or by staff up to a
date) closes every missing date in order, each as its own child, so a date is closed once whoever asks."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy

with workflow.unsafe.imports_passed_through():
    from activities.close_of_business import CloseOfBusinessActivities
    from contracts.servicing import (
        CobDay,
        CobFinish,
        CobProgress,
        CobRange,
        CobResult,
        CobRunProgress,
        CobRunResult,
        CobUntil,
        cob_workflow_id,
    )
    from domain.partitions import id_ranges

from workflows.queues import COB_PRIORITY, bulk_queue

__all__ = ["CobDayWorkflow", "CobRunWorkflow"]

COB_PARTS = "cob-parts"  # the workflow.patched marker of a close run in ranges (histories before it ran one range)

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
        if data.parts > 1 and workflow.patched(COB_PARTS):
            refreshed, accrued = await self._in_parts(day, data.parts)
        else:
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

    @staticmethod
    async def _in_parts(day: date, parts: int) -> tuple[int, CobProgress]:
        """Projections, then accruals, each in `parts` ranges of loan ids side by side on the bulk queue: any number
        of workers take them, each range resumes from its own heartbeat, and the date goes on when all are done."""
        ranges = [
            CobRange(business_date=day, after=str(part.after), through=str(part.through)) for part in id_ranges(parts)
        ]
        queue = bulk_queue()

        async def each_range(activity: Any, minutes: int) -> list[Any]:
            return await asyncio.gather(
                *(
                    workflow.execute_activity_method(
                        activity,
                        part,
                        task_queue=queue,
                        priority=COB_PRIORITY,
                        start_to_close_timeout=timedelta(minutes=minutes),
                        heartbeat_timeout=timedelta(seconds=120),
                        retry_policy=RETRY,
                    )
                    for part in ranges
                )
            )

        refreshed: list[int] = await each_range(CloseOfBusinessActivities.cob_project_range, 60)
        accrued: list[CobProgress] = await each_range(CloseOfBusinessActivities.cob_accrue_range, 120)
        return sum(refreshed), CobProgress(loans=sum(p.loans for p in accrued), entries=sum(p.entries for p in accrued))


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
                CobDay(business_date=day, parts=data.parts),
                id=cob_workflow_id(day),
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
            closed.append(result)
            self._closed = len(closed)
        return CobRunResult(closed=closed)
