"""The one way a process connects to Temporal: the pydantic data converter, so workflow inputs and results are
pydantic models on both sides (the API starting a workflow and the worker running it), with every payload
encrypted by the configured keys (workflows/payload_codec.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from temporalio.client import Client, Schedule, ScheduleAlreadyRunningError, ScheduleUpdate, ScheduleUpdateInput
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig

from config import Settings
from workflows.payload_codec import EncryptionCodec

DEFAULT_TEMPORAL_PORT = 7233


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads, encrypted with the current key, readable with any configured one."""
    codec = EncryptionCodec.from_settings(settings.payload_keys, settings.payload_key_id)
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)


async def connect_temporal(address: str, settings: Settings, namespace: str = "default") -> Client:
    return await Client.connect(address, namespace=namespace, data_converter=data_converter(settings))


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


async def connect_configured(settings: Settings, runtime: Runtime | None = None) -> Client:
    """The client every process uses: address, namespace, TLS and API key from settings. A worker process passes
    a runtime that exports the SDK's metrics."""
    return await Client.connect(
        settings.temporal_target,
        runtime=runtime,
        # With tracing on, the trace travels in workflow and activity headers (the worker's spans join it).
        interceptors=[TracingInterceptor()] if settings.otlp_endpoint else [],
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=tls_config(settings),
        api_key=settings.temporal_api_key,
    )


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime that serves the SDK's metrics (workflow and activity outcomes, latencies, poller and slot
    use) and the workers' own counters on `LENDFLOW_WORKER_METRICS_ADDRESS` for Prometheus."""
    if not settings.worker_metrics_address:
        return None
    metrics = PrometheusConfig(bind_address=settings.worker_metrics_address, counters_total_suffix=True)
    return Runtime(telemetry=TelemetryConfig(metrics=metrics))


async def ensure_schedule(client: Client, schedule_id: str, schedule: Schedule) -> None:
    """Created the first time, replaced after: a configuration change takes effect when the caller runs again."""
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        async def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(replace)
