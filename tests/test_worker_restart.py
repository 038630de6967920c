"""A worker that stops mid-process loses nothing: the workflow's history is on the Temporal server, the provider's
callback waits there as a signal, and the next worker to poll the queue finishes the payout exactly once."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from temporalio.worker import Worker

from store import ledger
from store.repositories import wallet_operations as operations
from store.repositories.wallets import wallet_by_id
from tests.conftest import Stack
from tests.helpers import admin_token
from tests.test_wallets import configure, fund, holder, ledger_is_whole
from workers.runner import WORKFLOWS, ActivityCollaborators, activity_functions
from workflows.payments import PayoutInput, PayoutWorkflow, payout_workflow_id


async def test_a_payout_survives_its_worker_stopping(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    alice = await holder(http, "+447700900900")
    await fund(http, admin, alice["wallets"]["USD"], 4_000)
    async with clean.sessions.begin() as s:
        op = await operations.record_operation(
            s, operation_id=uuid.uuid4(), kind="payout", wallet_id=uuid.UUID(alice["wallets"]["USD"]),
            owner_id=uuid.UUID(alice["user_id"]), amount=1_500, currency="USD", instrument="ba_alice",
        )  # fmt: skip
    collaborators = ActivityCollaborators(clean.sessions, clean.cipher, clean.providers())
    queue = f"restart-{uuid.uuid4()}"

    def new_worker() -> Worker:
        return Worker(clean.temporal, task_queue=queue, workflows=list(WORKFLOWS),
                      activities=activity_functions(clean.settings, collaborators))  # fmt: skip

    clean.payments.behaviour.latency_s = 1.0  # the provider's callback comes while no worker runs
    try:
        first = new_worker()
        running = asyncio.create_task(first.run())
        handle = await clean.temporal.start_workflow(
            PayoutWorkflow.run, PayoutInput(operation_id=str(op.id), confirm_wait_seconds=30),
            id=payout_workflow_id(str(op.id)), task_queue=queue,
        )  # fmt: skip
        held = await handle.execute_update(PayoutWorkflow.hold_result)
        assert held.status == "held"
        while (await _status(clean, op.id)) != "processing":  # noqa: ASYNC110 - polling the database, not an event
            await asyncio.sleep(0.05)
        await first.shutdown()
        await running
        await clean.payments.drain()  # payout.paid arrives and is signalled while nothing polls the queue
        second = new_worker()
        async with second:
            result = await asyncio.wait_for(handle.result(), timeout=30)
    finally:
        clean.payments.behaviour.latency_s = 0.05
    assert result.status == "succeeded"
    async with clean.sessions() as s:
        wallet = (await ledger.balances(s, [await _account(clean, alice["wallets"]["USD"])])).popitem()[1]
    assert (wallet.balance, wallet.available) == (2_500, 2_500)
    assert len([call for call in clean.payments.calls if call[0] == "payout"]) == 1
    await ledger_is_whole(clean)


async def _status(stack: Stack, operation_id: uuid.UUID) -> str:
    async with stack.sessions() as s:
        found = await operations.operation(s, operation_id)
    assert found is not None
    return found.status


async def _account(stack: Stack, wallet_id: str) -> int:
    async with stack.sessions() as s:
        wallet = await wallet_by_id(s, uuid.UUID(wallet_id))
    assert wallet is not None
    return wallet.account_id
