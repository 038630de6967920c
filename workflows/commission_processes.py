"""Client-side: keeping a project's commission processes in place — its distributor (real-time and daily
projects) and the Schedule that closes each period after it ends. Called when staff create a project and whenever
a worker starts, so a lost or never-started process is put back; starting what already runs changes nothing."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import WorkflowIDConflictPolicy

from workflows.commissions import (
    CloseDueInput,
    CommissionCloseDueWorkflow,
    CommissionDistributorWorkflow,
    DistributorInput,
    distributor_workflow_id,
)


def close_schedule_id(project: str) -> str:
    return f"commission-close-{project}"


def close_schedule(project: str, period: str, close_time: str, task_queue: str, payout_wait_s: int) -> Schedule:
    hour, minute = (int(part) for part in close_time.split(":"))
    first_day = ScheduleRange(1)
    when = (
        ScheduleCalendarSpec(hour=[ScheduleRange(hour)], minute=[ScheduleRange(minute)], day_of_month=[first_day])
        if period == "month"
        else ScheduleCalendarSpec(hour=[ScheduleRange(hour)], minute=[ScheduleRange(minute)], day_of_week=[first_day])
    )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            CommissionCloseDueWorkflow.run,
            CloseDueInput(project=project, payout_confirm_wait_seconds=payout_wait_s),
            id=f"commission-close-due-{project}",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(calendars=[when], time_zone_name="UTC"),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ONE),
    )


async def ensure_project_processes(client: Client, *, project: str, accrual: str, period: str, close_time: str,
                                   task_queue: str, batch_size: int, realtime_wait_seconds: float,
                                   payout_confirm_wait_seconds: int) -> None:  # fmt: skip
    schedule = close_schedule(project, period, close_time, task_queue, payout_confirm_wait_seconds)
    try:
        await client.create_schedule(close_schedule_id(project), schedule)
    except ScheduleAlreadyRunningError:

        async def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(close_schedule_id(project)).update(replace)
    if accrual in ("realtime", "daily"):
        await client.start_workflow(
            CommissionDistributorWorkflow.run,
            DistributorInput(project=project, mode=accrual, batch_size=batch_size, wait_seconds=realtime_wait_seconds),
            id=distributor_workflow_id(project), task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )  # fmt: skip


async def nudge_distributor(client: Client, *, project: str, task_queue: str, batch_size: int,
                            realtime_wait_seconds: float) -> None:  # fmt: skip
    """New events arrived: a real-time distributor takes them now instead of at its next look (and is started if it
    was not running: signal-with-start)."""
    await client.start_workflow(
        CommissionDistributorWorkflow.run,
        DistributorInput(project=project, mode="realtime", batch_size=batch_size, wait_seconds=realtime_wait_seconds),
        id=distributor_workflow_id(project), task_queue=task_queue, start_signal="events_arrived",
    )  # fmt: skip
