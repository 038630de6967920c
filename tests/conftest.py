"""The real stack, started once per test session: an embedded PostgreSQL migrated to head, the Temporal dev
server, workers running in-process with the fake providers, and the app behind an in-process HTTP client.
Each test starts from empty tables."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from api.resources import AppResources
from config import Settings
from contracts import visibility
from providers.cpa.postback import FakeCpaNetworks
from providers.credit.fake_credit import FakeBureau, FakeCreditBehaviour, FakeScoring
from providers.messaging.fake_email import FakeEmail
from providers.messaging.fake_sms import FakeSms, FakeSmsBehaviour
from providers.payments.fake_payments import FakePayments, FakePaymentsBehaviour
from services.i18n import set_strict
from store.db import make_engine, make_session_factory
from store.migrate import upgrade
from store.pii import PiiCipher
from store.posting_pool import PostingPool
from web.app import create_app
from workers.devstack.ports import free_port
from workers.devstack.postgres import EmbeddedPostgres
from workers.devstack.temporal import temporal_cli_path
from workers.providers_factory import Providers
from workers.runner import ActivityCollaborators, build_workers
from workers.seed import ensure_first_admin
from workflows.client import data_converter

# Property tests run the same examples on every run (`make test`, CI): a red build is then the code's, never the
# draw's. `LENDFLOW_HYPOTHESIS_PROFILE=explore` draws new examples (and many more) to look for what those miss.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", max_examples=5_000, database=None)
hypothesis_settings.load_profile(os.environ.get("LENDFLOW_HYPOTHESIS_PROFILE", "ci"))
# A text a catalog lacks is an error in the tests (a page in Vietnamese with an English string left fails).
set_strict(True)

BASE_URL = "http://testserver"
TASK_QUEUE = "lendflow-tests"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", free_port(), durable=False)
    server.start()
    try:
        url = server.ensure_database("lendflow_test")
        upgrade(url)
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        data_converter=data_converter(Settings()),
        search_attributes=visibility.ALL,
        dev_server_log_level="error",
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        env="dev",
        database_url=database_url,
        temporal_address="unused-the-tests-hand-in-a-client",
        task_queue_prefix=TASK_QUEUE,
        public_base_url=BASE_URL,
        message_send_attempts=3,
        message_status_wait_seconds=5,
        topup_confirm_wait_seconds=10,
        payout_confirm_wait_seconds=10,
        score_wait_seconds=10,
        review_target_seconds=60,
        review_expiry_seconds=120,
        offer_expiry_seconds=120,
        signing_wait_seconds=120,
        card_wait_seconds=120,
        disbursement_wait_seconds=5,
        disbursement_attempts=2,
        payout_status_polls=2,
        payout_poll_max_seconds=5,
        provider_attempts=2,
        postback_retry_seconds=1,
        worker_graceful_shutdown_seconds=2,  # the session's teardown does not wait long on a stray activity
        cob_parts=3,  # every close of business and distribution in the suite runs in parts side by side
        commission_parts=3,
        worker_bulk_slots=2,
        data_dir=Path("/nonexistent"),
    )


@dataclass
class Stack:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    cipher: PiiCipher
    temporal: Client
    app_resources: AppResources
    sms: FakeSms
    email: FakeEmail
    app: FastAPI
    payments: FakePayments
    bureaus: dict[str, FakeBureau]
    scoring: FakeScoring
    cpa: FakeCpaNetworks

    def providers(self) -> Providers:
        return Providers(
            sms=self.sms,
            email=self.email,
            payments=self.payments,
            bureaus=dict(self.bureaus),
            scoring=self.scoring,
            postbacks=self.cpa,
        )

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=BASE_URL)


@pytest.fixture(scope="session")
async def stack(settings: Settings, temporal_env: WorkflowEnvironment) -> AsyncIterator[Stack]:
    engine = make_engine(settings.database_url or "", pool_size=20)
    sessions = make_session_factory(engine)
    cipher = PiiCipher(settings.pii_key)
    client = temporal_env.client

    async def connector() -> Client:
        return client

    resources = AppResources(
        settings=settings, engine=engine, session_factory=sessions, cipher=cipher, temporal_connector=connector
    )
    app = create_app(settings, resources)

    def callback_client() -> httpx.AsyncClient:
        # The fake provider calls the app back in-process, exactly as Twilio would call the public URL.
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL)

    sms = FakeSms(
        settings.twilio_auth_token, behaviour=FakeSmsBehaviour(latency_s=0.05), http_client_factory=callback_client
    )
    email = FakeEmail()
    payments = FakePayments(
        f"{BASE_URL}/v1/webhooks/stripe",
        settings.stripe_webhook_secret,
        behaviour=FakePaymentsBehaviour(latency_s=0.05),
        http_client_factory=callback_client,
    )
    bureaus = {
        name: FakeBureau(name, FakeCreditBehaviour(latency_s=0.02))
        for name in (settings.bureau_primary_name, settings.bureau_fallback_name)
    }
    scoring = FakeScoring(
        settings.scoring_name,
        settings.credit_webhook_secret,
        behaviour=FakeCreditBehaviour(latency_s=0.05),
        http_client_factory=callback_client,
    )
    cpa = FakeCpaNetworks()
    built = Stack(
        settings, engine, sessions, cipher, client, resources, sms, email, app, payments, bureaus, scoring, cpa
    )
    postings = PostingPool(settings.database_url or "")  # the workers' path for postings that stand alone
    workers = build_workers(client, settings, ActivityCollaborators(sessions, cipher, built.providers(), postings))
    running = [asyncio.create_task(worker.run()) for worker in workers]
    try:
        yield built
    finally:
        await sms.drain()
        await payments.drain()
        await scoring.drain()
        await asyncio.gather(*(worker.shutdown() for worker in workers), return_exceptions=True)
        await asyncio.gather(*running, return_exceptions=True)
        await postings.close()
        await resources.close_listeners()
        await engine.dispose()


async def _stop_running_workflows(client: Client) -> None:
    """Workflows an earlier test left waiting (an offer nobody accepts) would wake up against emptied tables."""
    async for execution in client.list_workflows("ExecutionStatus = 'Running'"):
        with contextlib.suppress(RPCError):
            await client.get_workflow_handle(execution.id, run_id=execution.run_id).terminate("test finished")


async def _truncate_all(engine: AsyncEngine) -> None:
    """An activity of a just-terminated workflow (a commission distributor's batch) may still hold row locks that
    TRUNCATE's table locks cross: the deadlock is broken by the server, and the truncate tried again."""
    for attempt in range(5):
        try:
            await _truncate_once(engine)
            return
        except DBAPIError as err:
            if "deadlock" not in str(err) or attempt == 4:
                raise
            await asyncio.sleep(0.2)


async def _truncate_once(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        tables = (
            await conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            )
        ).scalars()
        names = ", ".join(f'"{name}"' for name in tables)
        if names:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def clean(stack: Stack) -> AsyncIterator[Stack]:
    """An empty database with only the first admin, no workflow of an earlier test still running, and the fake
    providers in their default mood."""
    await _stop_running_workflows(stack.temporal)
    await stack.sms.drain()
    await stack.payments.drain()
    await _truncate_all(stack.engine)
    await ensure_first_admin(stack.sessions, stack.settings)
    stack.sms.behaviour.failures_to_inject = 0
    stack.sms.sent.clear()
    stack.payments.behaviour.failures_to_inject = 0
    stack.payments.delivered.clear()
    stack.payments.calls.clear()
    await stack.scoring.drain()
    for bureau in stack.bureaus.values():
        bureau.behaviour.down, bureau.behaviour.failures_to_inject, bureau.calls = False, 0, 0
    stack.scoring.behaviour.down = False
    stack.scoring.delivered.clear()
    stack.cpa.received.clear()
    stack.cpa.failures_to_inject = 0
    yield stack


@pytest.fixture
async def http(clean: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with clean.http() as client:
        yield client
