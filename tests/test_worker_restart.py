"""A worker that stops mid-process loses nothing: the workflow's history is on the Temporal server, the provider's
callback waits there as a signal, and the next worker to poll the queue finishes the payout exactly once."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import text
from temporalio.worker import Worker

from activities.messaging import MessagingActivities
from activities.origination import OriginationActivities
from config.task_queues import Family
from contracts.origination import BookLoan
from contracts.payments import PayoutInput, payout_workflow_id
from services.loan_book import LoanBook
from store import ledger
from store.repositories import wallet_operations as operations
from store.repositories.wallets import wallet_by_id
from tests.conftest import Stack
from tests.helpers import admin_token, bearer
from tests.origination_steps import signed, wait_status
from tests.test_wallets import configure, fund, holder, ledger_is_whole
from workers.runner import WORKFLOWS, ActivityCollaborators, activity_functions
from workflows.payments import PayoutWorkflow


async def test_a_payout_survives_its_worker_stopping(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    alice = await holder(http, "+447700900900")
    await fund(http, admin, alice["wallets"]["USD"], 4_000)
    async with clean.sessions.begin() as s:
        op = await operations.record_operation(
            s,
            operation_id=uuid.uuid4(),
            kind="payout",
            wallet_id=uuid.UUID(alice["wallets"]["USD"]),
            owner_id=uuid.UUID(alice["user_id"]),
            amount=1_500,
            currency="USD",
            instrument="ba_alice",
        )
    collaborators = ActivityCollaborators(clean.sessions, clean.cipher, clean.providers())
    queue = f"restart-{uuid.uuid4()}"

    def new_worker() -> Worker:
        return Worker(
            clean.temporal,
            task_queue=queue,
            workflows=list(WORKFLOWS),
            activities=activity_functions(clean.settings, collaborators),
        )

    clean.payments.behaviour.latency_s = 1.0  # the provider's callback comes while no worker runs
    try:
        first = new_worker()
        running = asyncio.create_task(first.run())
        handle = await clean.temporal.start_workflow(
            PayoutWorkflow.run,
            PayoutInput(operation_id=str(op.id), confirm_wait_seconds=30),
            id=payout_workflow_id(str(op.id)),
            task_queue=queue,
        )
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


async def test_a_loan_is_funded_exactly_once_when_its_worker_stops_mid_disbursement(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    """The payout is asked for, the worker stops, the provider's `payout.paid` arrives while nothing polls the
    queue, and the next worker books the loan once."""
    settings = clean.settings
    queue = f"restart-{uuid.uuid4()}"
    saved_prefix = settings.task_queue_prefix
    settings.task_queue_prefix = queue  # the API starts this application's workflows on private queues
    collaborators = ActivityCollaborators(clean.sessions, clean.cipher, clean.providers())

    def new_worker(family: Family = Family.ORIGINATION) -> Worker:
        return Worker(
            clean.temporal,
            task_queue=settings.queue_for(family),
            workflows=list(WORKFLOWS),
            activities=activity_functions(settings, collaborators),
        )

    messaging = new_worker(Family.MESSAGING)  # the sign-in and signing codes, on the private messaging queue
    delivering = asyncio.create_task(messaging.run())
    first = new_worker()
    running = asyncio.create_task(first.run())
    try:
        admin = await admin_token(http, settings)
        token, app_id = await signed(http, admin, "+447700920001")
        clean.payments.behaviour.latency_s = 1.0  # the callback will come while no worker runs
        card = await http.post(
            f"/v1/applications/{app_id}/card", json={"payment_method": "pm_card_visa"}, headers=bearer(token)
        )
        assert card.status_code == 200, card.text
        for _ in range(200):  # until the payout has been asked for
            if [c for c in clean.payments.calls if c[0] == "payout"]:
                break
            await asyncio.sleep(0.05)
        await first.shutdown()
        await running
        await clean.payments.drain()
        assert (await http.get(f"/v1/applications/{app_id}", headers=bearer(token))).json()["status"] == "disbursing"
        second = new_worker()
        async with second:
            funded = await wait_status(http, token, app_id, "disbursed")
    finally:
        settings.task_queue_prefix = saved_prefix
        clean.payments.behaviour.latency_s = 0.05
        await messaging.shutdown()
        await delivering
    assert len([c for c in clean.payments.calls if c[0] == "payout"]) == 1
    async with clean.sessions() as s:
        loans = (await s.execute(text("SELECT id FROM loans"))).scalars().all()
        entries = await s.scalar(text("SELECT count(*) FROM journal_entries WHERE kind = 'loan_disbursement'"))
    assert [str(x) for x in loans] == [funded["loan_id"]] and entries == 1
    await ledger_is_whole(clean)


async def test_booking_a_loan_twice_books_it_once(http: httpx.AsyncClient, clean: Stack) -> None:
    """What a retried `book_loan` does when the first run committed but its worker died before reporting."""
    admin = await admin_token(http, clean.settings)
    token, app_id = await signed(http, admin, "+447700920002")
    card = await http.post(
        f"/v1/applications/{app_id}/card", json={"payment_method": "pm_card_visa"}, headers=bearer(token)
    )
    funded = await wait_status(http, token, app_id, "disbursed")
    async with clean.sessions() as s:
        card_id = await s.scalar(text("SELECT card_id FROM loans"))
    activities = OriginationActivities(
        clean.sessions,
        clean.cipher,
        bureaus=dict(clean.bureaus),
        scoring=clean.scoring,
        payments=clean.payments,
        postbacks=clean.cpa,
        cpa_networks={},
        code_secret="x",
        public_base_url="http://testserver",
        messaging=MessagingActivities(clean.sessions, clean.cipher, clean.sms, clean.email, "http://testserver"),
        book=LoanBook(clean.settings.market_timezone),
    )
    again = await activities.book_loan(BookLoan(application_id=app_id, reference="po_again", card_id=str(card_id)))
    assert again.loan_id == funded["loan_id"]
    async with clean.sessions() as s:
        assert await s.scalar(text("SELECT count(*) FROM loans")) == 1
        assert await s.scalar(text("SELECT count(*) FROM journal_entries")) == 1
    assert card.status_code == 200
    await ledger_is_whole(clean)
