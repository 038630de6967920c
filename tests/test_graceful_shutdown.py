"""A worker stopped with SIGTERM (a deploy, a scale-down) lets the activity it is running finish within its grace
(`LENDFLOW_WORKER_GRACEFUL_SHUTDOWN_SECONDS`): the result is recorded by that worker, nothing is retried, and the
next worker carries the workflow on from there."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

import httpx
import pytest
from temporalio.api.enums.v1 import EventType, PendingActivityState

from contracts.origination import application_workflow_id
from tests.conftest import Stack
from tests.helpers import admin_token, bearer
from tests.origination_steps import signed, wait_status
from tests.served import served_api
from tests.test_payout_worker_killed import worker_process

pytestmark = pytest.mark.slow


async def test_an_activity_running_at_sigterm_finishes_and_its_result_is_recorded(
    http: httpx.AsyncClient, clean: Stack, tmp_path: Path
) -> None:
    settings = clean.settings
    queue = f"graceful-{uuid.uuid4()}"
    saved = settings.task_queue_prefix
    settings.task_queue_prefix = queue
    try:
        async with served_api(clean) as base_url:
            # The provider takes 4 s to answer the payout request: the activity is surely running when it is seen.
            slow = {"LENDFLOW_FAKE_PAYMENTS_ANSWER_LATENCY_MS": "4000"}
            with worker_process(clean, queue, tmp_path / "payments", base_url, **slow) as first:
                admin = await admin_token(http, settings)
                token, app_id = await signed(http, admin, "+447700970001")
                card = await http.post(
                    f"/v1/applications/{app_id}/card", json={"payment_method": "pm_card_visa"}, headers=bearer(token)
                )
                assert card.status_code == 200, card.text
                handle = clean.temporal.get_workflow_handle(application_workflow_id(app_id))
                for _ in range(300):  # until the payout request is running
                    pending = (await handle.describe()).raw_description.pending_activities
                    if any(
                        p.activity_type.name == "request_disbursement"
                        and p.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                        for p in pending
                    ):
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise AssertionError("the payout request never started")
                first.send_signal(signal.SIGTERM)
                assert await asyncio.to_thread(first.wait, 20) == 0  # it finished its work and exited cleanly
            history = [event async for event in handle.fetch_history_events()]
            asked = [
                e
                for e in history
                if e.HasField("activity_task_scheduled_event_attributes")
                and e.activity_task_scheduled_event_attributes.activity_type.name == "request_disbursement"
            ]
            completed = [
                e
                for e in history
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
                and e.activity_task_completed_event_attributes.scheduled_event_id == asked[0].event_id
            ]
            assert len(asked) == 1 and len(completed) == 1  # done once, by the worker that was stopping
            started = next(
                e
                for e in history
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
                and e.activity_task_started_event_attributes.scheduled_event_id == asked[0].event_id
            )
            assert started.activity_task_started_event_attributes.attempt == 1
            with worker_process(clean, queue, tmp_path / "payments", base_url):
                funded = await wait_status(http, token, app_id, "disbursed", timeout_s=60)
    finally:
        settings.task_queue_prefix = saved
    assert funded["loan_id"]
