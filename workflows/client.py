"""The one way a process connects to Temporal: the pydantic data converter, so workflow inputs and results are
pydantic models on both sides (the API starting a workflow and the worker running it)."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client, Schedule, ScheduleAlreadyRunningError, ScheduleUpdate, ScheduleUpdateInput
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import TLSConfig

from config import Settings

DEFAULT_TEMPORAL_PORT = 7233


async def connect_temporal(address: str, namespace: str = "default") -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter)


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS as configured: False (a dev server), True (the system's CAs: Temporal Cloud with an API key), or the
    server CA and client certificate read from their files (mTLS)."""
    if not settings.temporal_uses_tls:
        return False
    if settings.temporal_tls_server_ca is None and settings.temporal_tls_client_cert is None:
        return True

    def read(path: Path | None) -> bytes | None:
        return None if path is None else Path(path).read_bytes()

    return TLSConfig(
        server_root_ca_cert=read(settings.temporal_tls_server_ca),
        client_cert=read(settings.temporal_tls_client_cert),
        client_private_key=read(settings.temporal_tls_client_key),
        domain=settings.temporal_tls_server_name,
    )


async def connect_configured(settings: Settings) -> Client:
    """The client every process uses: address, namespace, TLS and API key from settings."""
    return await Client.connect(
        settings.temporal_target,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        tls=tls_config(settings),
        api_key=settings.temporal_api_key,
    )


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule) -> None:
    """Created the first time, replaced after: a configuration change takes effect when the caller runs again."""
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        async def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)
