"""The one way a process connects to Temporal: the pydantic data converter, so workflow inputs and results are
pydantic models on both sides (the API starting a workflow and the worker running it)."""

from __future__ import annotations

from temporalio.client import Client, Schedule, ScheduleAlreadyRunningError, ScheduleUpdate, ScheduleUpdateInput
from temporalio.contrib.pydantic import pydantic_data_converter

DEFAULT_TEMPORAL_PORT = 7233


async def connect_temporal(address: str, namespace: str = "default") -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter)


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule) -> None:
    """Created the first time, replaced after: a configuration change takes effect when the caller runs again."""
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        async def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)
