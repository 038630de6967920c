"""The Temporal Schedules the platform keeps: close of business daily at the market's local time, and the sweep of
expired holds every minute. Created when a worker starts, updated when the configured time or time zone changed,
so configuration stays the one truth."""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)

from config import Settings
from config.task_queues import Family
from contracts.servicing import CobUntil
from contracts.wallets import HoldSweep
from workflows.client import ensure_schedule
from workflows.close_of_business import CobRunWorkflow
from workflows.hold_expiry import HoldExpiryWorkflow

log = logging.getLogger("lendflow.schedules")

COB_SCHEDULE_ID = "cob-daily"
HOLD_EXPIRY_SCHEDULE_ID = "holds-expiry"


def cob_schedule(settings: Settings) -> Schedule:
    hour, minute = (int(part) for part in settings.cob_time.split(":"))
    return Schedule(
        action=ScheduleActionStartWorkflow(
            CobRunWorkflow.run,
            CobUntil(until=None, parts=settings.cob_parts),
            id="cob-scheduled",
            task_queue=settings.queue_for(Family.SERVICING),
        ),
        spec=ScheduleSpec(
            calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(hour)], minute=[ScheduleRange(minute)])],
            time_zone_name=settings.market_timezone,
        ),
        # A run still going when the next is due (a long gap being closed) is not doubled: the next one waits.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ONE),
    )


async def ensure_cob_schedule(client: Client, settings: Settings) -> None:
    await ensure_schedule(client, COB_SCHEDULE_ID, cob_schedule(settings))
    log.info("schedule %s at %s %s", COB_SCHEDULE_ID, settings.cob_time, settings.market_timezone)


def hold_expiry_schedule(settings: Settings) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            HoldExpiryWorkflow.run,
            HoldSweep(),
            id="holds-expiry-sweep",
            task_queue=settings.queue_for(Family.PAYMENTS),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=1))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),  # a sweep still running covers the next
    )


async def ensure_hold_expiry_schedule(client: Client, settings: Settings) -> None:
    await ensure_schedule(client, HOLD_EXPIRY_SCHEDULE_ID, hold_expiry_schedule(settings))
