"""Delivering an SMS: retried through provider outages, final on a rejected number, and kept up to date by the
provider's signed callbacks, which are taken once."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import func, select
from temporalio.client import WorkflowHandle
from temporalio.worker import Replayer

from config.task_queues import Family
from contracts.messaging import MessageDeliveryInput, MessageDeliveryResult, message_workflow_id
from providers.messaging.twilio_signature import twilio_signature
from store.models import OutboundMessage, WebhookEvent
from store.repositories.messages import create_message
from tests.conftest import BASE_URL, Stack
from workflows.message_delivery import MessageDeliveryWorkflow


async def send(stack: Stack, to: str, *, attempts: int = 3, wait_s: int = 10) -> WorkflowHandle:  # type: ignore[type-arg]
    async with stack.sessions.begin() as session:
        message_id = await create_message(
            session, stack.cipher, channel="sms", to=to, body="Your payment is due tomorrow.", purpose="reminder"
        )
    return await stack.temporal.start_workflow(
        MessageDeliveryWorkflow.run,
        MessageDeliveryInput(message_id=str(message_id), send_attempts=attempts, status_wait_seconds=wait_s),
        id=message_workflow_id(str(message_id)),
        task_queue=stack.settings.queue_for(Family.MESSAGING),
    )


async def stored(stack: Stack, message_id: str) -> OutboundMessage:
    async with stack.sessions() as session:
        row = await session.get(OutboundMessage, uuid.UUID(message_id))
    assert row is not None
    return row


async def test_a_message_is_delivered_and_its_status_recorded(clean: Stack) -> None:
    handle = await send(clean, "+447700900200")
    result: MessageDeliveryResult = await handle.result()
    assert result.status == "delivered"
    assert result.confirmed
    row = await stored(clean, result.message_id)
    assert row.status == "delivered"
    # Its callbacks say a workflow waits for them (signed with the URL); other messages' callbacks are only recorded.
    (sent,) = [s for s in clean.sms.sent if s.sid == result.provider_message_id]
    assert sent.message.status_callback_url and sent.message.status_callback_url.endswith("&followed=1")
    assert row.provider == "fake"
    assert row.provider_message_id == result.provider_message_id
    assert row.attempts == 1


async def test_an_unreachable_handset_ends_undelivered(clean: Stack) -> None:
    result = await (await send(clean, "+15005550991")).result()
    assert result.status == "undelivered"
    assert (await stored(clean, result.message_id)).error_code == "30003"


async def test_a_rejected_number_fails_at_once_without_retrying(clean: Stack) -> None:
    result = await (await send(clean, "+15005550001")).result()
    assert result.status == "failed"
    row = await stored(clean, result.message_id)
    assert (row.status, row.error_code, row.attempts) == ("failed", "21211", 1)


async def test_a_provider_outage_is_retried_until_the_message_goes_out(clean: Stack) -> None:
    clean.sms.behaviour.failures_to_inject = 2
    result = await (await send(clean, "+447700900201", attempts=5)).result()
    assert result.status == "delivered"
    assert (await stored(clean, result.message_id)).attempts == 3


async def test_an_outage_longer_than_the_retries_ends_failed(clean: Stack) -> None:
    clean.sms.behaviour.failures_to_inject = 100
    result = await (await send(clean, "+447700900202", attempts=2)).result()
    assert (result.status, result.error_code) == ("failed", "provider_unavailable")
    assert (await stored(clean, result.message_id)).status == "failed"


async def test_a_status_that_arrives_after_the_wait_is_still_recorded(clean: Stack) -> None:
    clean.sms.behaviour.latency_s = 1.5
    try:
        result = await (await send(clean, "+447700900203", wait_s=1)).result()
        assert not result.confirmed
        assert result.status == "queued"
        await clean.sms.drain()
    finally:
        clean.sms.behaviour.latency_s = 0.05
    assert (await stored(clean, result.message_id)).status == "delivered"


def signed_callback(stack: Stack, message_id: str, sid: str, status: str) -> tuple[str, dict[str, str], dict[str, str]]:
    url = f"{BASE_URL}/v1/webhooks/twilio/status?message_id={message_id}"
    form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "ACtest"}
    return url, form, {"X-Twilio-Signature": twilio_signature(stack.settings.twilio_auth_token, url, form)}


async def test_a_replayed_callback_changes_nothing(http: httpx.AsyncClient, clean: Stack) -> None:
    result = await (await send(clean, "+447700900204")).result()
    assert result.provider_message_id is not None
    url, form, headers = signed_callback(clean, result.message_id, result.provider_message_id, "delivered")
    for _ in range(2):
        assert (await http.post(url, data=form, headers=headers)).status_code == 204
    # A stale "sent" that arrives late cannot move the message back.
    url, form, headers = signed_callback(clean, result.message_id, result.provider_message_id, "sent")
    assert (await http.post(url, data=form, headers=headers)).status_code == 204
    async with clean.sessions() as session:
        events = await session.scalar(
            select(func.count()).where(WebhookEvent.event_id == f"{result.provider_message_id}:delivered")
        )
    assert events == 1
    assert (await stored(clean, result.message_id)).status == "delivered"


async def test_a_callback_with_a_bad_signature_is_refused(http: httpx.AsyncClient, clean: Stack) -> None:
    url, form, _ = signed_callback(clean, str(uuid.uuid4()), "SMforged", "delivered")
    response = await http.post(url, data=form, headers={"X-Twilio-Signature": "Zm9yZ2Vk"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    unsigned = await http.post(url, data=form)
    assert unsigned.status_code == 401
    async with clean.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


async def test_inbound_replies_are_stored_once_and_encrypted(http: httpx.AsyncClient, clean: Stack) -> None:
    url = f"{BASE_URL}/v1/webhooks/twilio/inbound"
    form = {"MessageSid": "SMinbound1", "From": "+447700900205", "Body": "STOP"}
    headers = {"X-Twilio-Signature": twilio_signature(clean.settings.twilio_auth_token, url, form)}
    for _ in range(2):
        response = await http.post(url, data=form, headers=headers)
        assert response.status_code == 200
        assert "<Response>" in response.text
    async with clean.sessions() as session:
        events = (await session.scalars(select(WebhookEvent))).all()
    assert len(events) == 1
    assert "+447700900205" not in str(events[0].payload)
    assert clean.cipher.decrypt(events[0].payload["body_encrypted"].encode()) == "STOP"


async def test_the_delivery_workflow_replays_deterministically(clean: Stack) -> None:
    handle = await send(clean, "+447700900206")
    await handle.result()
    history = await handle.fetch_history()
    await Replayer(workflows=[MessageDeliveryWorkflow], data_converter=clean.temporal.data_converter).replay_workflow(
        history
    )
