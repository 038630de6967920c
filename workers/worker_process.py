"""`lendflow worker`: connects to PostgreSQL and Temporal and runs the workers until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from pathlib import Path

from temporalio.worker import Worker

from config import Settings
from providers.payments.fake_payments import FakePayments
from store.db import make_engine, make_session_factory
from store.pii import PiiCipher
from store.posting_pool import PostingPool
from store.repositories import affiliate
from workers.providers_factory import build_providers
from workers.runner import ActivityCollaborators, build_workers
from workers.schedules import ensure_cob_schedule, ensure_hold_expiry_schedule
from workflows.client import connect_configured, metrics_runtime
from workflows.commission_processes import ensure_project_processes

log = logging.getLogger("lendflow.worker")


async def connect_with_patience(settings: Settings, timeout_s: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout_s
    runtime = metrics_runtime(settings)
    while True:
        try:
            return await connect_configured(settings, runtime)
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1)


async def ensure_commission_processes(client, settings: Settings, collaborators: ActivityCollaborators) -> None:  # type: ignore[no-untyped-def]
    """Every project's distributor and close Schedule, in case one was lost (or the project predates them)."""
    async with collaborators.session_factory() as session:
        found = await affiliate.projects(session)
    for project in found:
        await ensure_project_processes(
            client, settings, project=project.code, accrual=project.accrual, period=project.period
        )


HEALTH_EVERY_S = 10.0


async def report_alive(workers: list[Worker], path: Path, stop: asyncio.Event) -> None:
    """Touches `path` every few seconds while every worker of the process runs: a container's health check
    (`lendflow healthcheck worker`) sees a stale file when a worker has stopped or the event loop is stuck."""
    while not stop.is_set():
        if all(worker.is_running for worker in workers):
            await asyncio.to_thread(path.write_text, f"{time.time():.0f}\n")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), HEALTH_EVERY_S)


async def serve_workers(settings: Settings) -> None:
    if settings.database_url is None:
        raise SystemExit("DATABASE_URL is not set")
    engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    client = await connect_with_patience(settings)
    collaborators = ActivityCollaborators(
        make_session_factory(engine),
        PiiCipher(settings.pii_key),
        build_providers(settings),
        PostingPool(settings.database_url, size=settings.posting_pool_size),
    )
    workers = build_workers(client, settings, collaborators)
    if isinstance(collaborators.providers.payments, FakePayments):
        owed = await collaborators.providers.payments.resume_deliveries()
        if owed:
            log.info("fake payments: delivering %d callbacks owed from before the restart", owed)
    if settings.cob_schedule_enabled:
        await ensure_cob_schedule(client, settings)
        await ensure_hold_expiry_schedule(client, settings)
        await ensure_commission_processes(client, settings, collaborators)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runs = [asyncio.create_task(worker.run()) for worker in workers]
    log.info("workers polling task queues %s on %s", settings.polled_queues, settings.temporal_target)
    stopped = asyncio.create_task(stop.wait())
    alive = asyncio.create_task(report_alive(workers, settings.worker_health_file, stop))
    await asyncio.wait([stopped, *runs], return_when=asyncio.FIRST_COMPLETED)
    alive.cancel()
    # Graceful: running activities finish (or time out) and are then retried by whoever polls next.
    await asyncio.gather(*(worker.shutdown() for worker in workers), return_exceptions=True)
    await engine.dispose()
