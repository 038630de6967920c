"""Close of business: `cob-<date>` closes one business date; a run (started by the daily Schedule or by staff up to a
date) closes every missing date in order, each as its own child, so a date is closed once whoever asks."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy

with workflow.unsafe.imports_passed_through():
    from activities.servicing_models import (
        CobBegun,
        CobDates,
        CobDay,
        CobFinish,
        CobProgress,
        CobResult,
        CobRunResult,
        CobUntil,
    )

__all__ = ["CobDayWorkflow", "CobResult", "CobRunResult", "CobRunWorkflow", "CobUntil", "cob_workflow_id"]

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30),
                    non_retryable_error_types=["conflict", "validation_error"])  # fmt: skip
COB_RUNNER_ID = "cob-run"


def cob_workflow_id(business_date: str) -> str:
    return f"cob-{business_date}"


async def _act(name: str, data: object, result_type: type | None = None, *, minutes: int = 5,
               heartbeat_s: int | None = None) -> object:  # fmt: skip
    return await workflow.execute_activity(
        name, data, result_type=result_type, start_to_close_timeout=timedelta(minutes=minutes),
        heartbeat_timeout=timedelta(seconds=heartbeat_s) if heartbeat_s else None, retry_policy=RETRY,
    )  # fmt: skip


@workflow.defn(name="CobDay")
class CobDayWorkflow:
    @workflow.run
    async def run(self, data: CobDay) -> CobResult:
        day = data.business_date
        ref = CobDay(business_date=day, workflow_id=workflow.info().workflow_id)
        begun = await _act("cob_begin", ref, CobBegun)
        assert isinstance(begun, CobBegun)
        if begun.status == "closed":
            return CobResult(business_date=day, status="already_closed")
        refreshed = await _act("cob_project", ref, int, minutes=60, heartbeat_s=120)
        accrued = await _act("cob_accrue", ref, CobProgress, minutes=120, heartbeat_s=120)
        assert isinstance(accrued, CobProgress)
        notices = await _act("cob_notify", ref, int, minutes=60, heartbeat_s=120)
        await _act("cob_snapshot", ref, minutes=10)
        assert isinstance(refreshed, int) and isinstance(notices, int)
        await _act("cob_finish", CobFinish(business_date=day, loans_accrued=accrued.loans,
                                           projections_refreshed=refreshed, notices=notices))  # fmt: skip
        return CobResult(business_date=day, status="closed", loans_accrued=accrued.loans, entries=accrued.entries,
                         projections_refreshed=refreshed, notices=notices)  # fmt: skip


@workflow.defn(name="CobRun")
class CobRunWorkflow:
    @workflow.run
    async def run(self, data: CobUntil) -> CobRunResult:
        dates = await _act("cob_dates", data, CobDates)
        assert isinstance(dates, CobDates)
        closed: list[CobResult] = []
        for day in dates.dates:
            result = await workflow.execute_child_workflow(
                CobDayWorkflow.run, CobDay(business_date=day), id=cob_workflow_id(day),
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )  # fmt: skip
            closed.append(result)
        return CobRunResult(closed=closed)
