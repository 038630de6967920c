"""A worker process killed (SIGKILL) right after it asked the provider for a payout loses nothing: the provider's
records outlive it (the fake keeps them in its data folder, as a real provider keeps its own), the callback it owed
still comes, and the application reaches `disbursed` with the loan funded exactly once. When the provider has lost
the payout instead ("No such payout"), the workflow asks again under the same idempotency key."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Stack
from tests.helpers import admin_token, bearer
from tests.origination_steps import signed, wait_status
from tests.served import served_api
from tests.servicing_steps import scalar, wait_until
from tests.test_wallets import ledger_is_whole

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def worker_process(
    stack: Stack, prefix: str, data_dir: Path, base_url: str, **extra: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`lendflow worker` on task queues of its own (every family's, under `prefix`), with the fake providers and
    the given data folder (`extra`: more of its environment)."""
    settings = stack.settings
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LENDFLOW_")},
        "DATABASE_URL": settings.database_url or "",
        "TEMPORAL_ADDRESS": stack.temporal.service_client.config.target_host,
        "LENDFLOW_ENV": "dev",
        "LENDFLOW_TASK_QUEUE_PREFIX": prefix,
        "LENDFLOW_DATA_DIR": str(data_dir),
        "LENDFLOW_PUBLIC_BASE_URL": base_url,
        "LENDFLOW_COB_SCHEDULE_ENABLED": "false",
        "LENDFLOW_FAKE_PAYMENTS_LATENCY_MS": "4000",
        "LENDFLOW_STRIPE_WEBHOOK_SECRET": settings.stripe_webhook_secret,
        "LENDFLOW_PII_KEY": settings.pii_key,
        "LENDFLOW_LOG_LEVEL": "WARNING",
        "LENDFLOW_WORKER_HEALTH_FILE": str(data_dir / "worker.alive"),
        **extra,
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen([sys.executable, "-m", "workers.cli", "worker"], env=env)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.mark.parametrize("provider_remembers", [True, False], ids=["callback-still-comes", "provider-lost-it"])
async def test_a_worker_killed_after_asking_for_the_payout_funds_the_loan_exactly_once(
    http: httpx.AsyncClient, clean: Stack, tmp_path: Path, provider_remembers: bool
) -> None:
    settings = clean.settings
    queue = f"killed-{uuid.uuid4()}"
    saved = settings.task_queue_prefix
    settings.task_queue_prefix = queue  # the API starts this application's workflows on the worker process's queues
    try:
        async with served_api(clean) as base_url:
            with worker_process(clean, queue, tmp_path / "first", base_url) as first:
                admin = await admin_token(http, settings)
                token, app_id = await signed(http, admin, f"+44770095000{int(provider_remembers)}")
                card = await http.post(
                    f"/v1/applications/{app_id}/card", json={"payment_method": "pm_card_visa"}, headers=bearer(token)
                )
                assert card.status_code == 200, card.text
                await wait_until(
                    lambda: scalar(clean, "SELECT payout_reference FROM loan_applications"),
                    "the payout asked of the provider",
                )
                first.send_signal(signal.SIGKILL)  # the callback is owed 4 s from now, by a process now dead
                first.wait(10)
            assert (await http.get(f"/v1/applications/{app_id}", headers=bearer(token))).json()["status"] == (
                "disbursing"
            )
            # The same provider (its records kept in the data folder), or one that has lost them.
            data_dir = tmp_path / ("first" if provider_remembers else "second")
            with worker_process(clean, queue, data_dir, base_url):
                funded = await wait_status(http, token, app_id, "disbursed", timeout_s=60)
    finally:
        settings.task_queue_prefix = saved
    loans = await scalar(clean, "SELECT count(*) FROM loans")
    entries = await scalar(clean, "SELECT count(*) FROM journal_entries WHERE kind = 'loan_disbursement'")
    assert (loans, entries) == (1, 1) and funded["loan_id"]
    await ledger_is_whole(clean)
