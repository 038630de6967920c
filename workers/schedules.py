"""The Temporal Schedules the platform keeps: close of business daily at the market's local time. Created when a
worker starts, updated when the configured time or time zone changed, so configuration stays the one truth."""

from __future__ import annotations

import logging

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

from config import Settings
from workflows.close_of_business import CobRunWorkflow, CobUntil

log = logging.getLogger("lendflow.schedules")

COB_SCHEDULE_ID = "cob-daily"


def cob_schedule(settings: Settings) -> Schedule:
    hour, minute = (int(part) for part in settings.cob_time.split(":"))
    return Schedule(
        action=ScheduleActionStartWorkflow(
            CobRunWorkflow.run, CobUntil(until=None), id="cob-scheduled", task_queue=settings.main_task_queue
        ),
        spec=ScheduleSpec(
            calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(hour)], minute=[ScheduleRange(minute)])],
            time_zone_name=settings.market_timezone,
        ),
        # A run still going when the next is due (a long gap being closed) is not doubled: the next one waits.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ONE),
    )


async def ensure_cob_schedule(client: Client, settings: Settings) -> None:
    schedule = cob_schedule(settings)
    try:
        await client.create_schedule(COB_SCHEDULE_ID, schedule)
        log.info("created schedule %s at %s %s", COB_SCHEDULE_ID, settings.cob_time, settings.market_timezone)
    except ScheduleAlreadyRunningError:

        async def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(COB_SCHEDULE_ID).update(replace)
