"""Client-side: keeping a project's commission processes in place — its distributor (real-time and daily
projects) and the Schedule that closes each period after it ends. Called when staff create a project and whenever
a worker starts, so a lost or never-started process is put back; starting what already runs changes nothing."""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)
from temporalio.common import WorkflowIDConflictPolicy

from config import Settings
from config.task_queues import Family
from contracts.commissions import CloseDueInput, DistributorInput, close_schedule_id, distributor_workflow_id
from contracts.visibility import attributes
from workflows.client import ensure_schedule
from workflows.commissions import CommissionCloseDueWorkflow, CommissionDistributorWorkflow


def close_schedule(
    project: str, period: str, close_time: str, task_queue: str, payout_wait_s: int, parts: int = 1
) -> Schedule:
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
            CloseDueInput(project=project, payout_confirm_wait_seconds=payout_wait_s, parts=parts),
            id=f"commission-close-due-{project}",
            task_queue=task_queue,
        ),
        spec=ScheduleSpec(calendars=[when], time_zone_name="UTC"),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ONE),
    )


async def ensure_project_processes(
    client: Client, settings: Settings, *, project: str, accrual: str, period: str
) -> None:
    task_queue = settings.queue_for(Family.COMMISSIONS)
    schedule = close_schedule(
        project,
        period,
        settings.commission_close_time,
        task_queue,
        settings.payout_confirm_wait_seconds,
        settings.commission_parts,
    )
    await ensure_schedule(client, close_schedule_id(project), schedule)
    if accrual in ("realtime", "daily"):
        await client.start_workflow(
            CommissionDistributorWorkflow.run,
            _distributor_input(settings, project, accrual),
            id=distributor_workflow_id(project),
            task_queue=task_queue,
            search_attributes=attributes(project=project),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )


async def nudge_distributor(client: Client, settings: Settings, project: str) -> None:
    """New events arrived: a real-time distributor takes them now instead of at its next look (and is started if it
    was not running: signal-with-start)."""
    await client.start_workflow(
        CommissionDistributorWorkflow.run,
        _distributor_input(settings, project, "realtime"),
        id=distributor_workflow_id(project),
        task_queue=settings.queue_for(Family.COMMISSIONS),
        search_attributes=attributes(project=project),
        start_signal="events_arrived",
    )


def _distributor_input(settings: Settings, project: str, mode: str) -> DistributorInput:
    return DistributorInput(
        project=project,
        mode=mode,
        batch_size=settings.commission_batch_size,
        wait_seconds=settings.commission_realtime_wait_seconds,
        parts=settings.commission_parts,
    )
