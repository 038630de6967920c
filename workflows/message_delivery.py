"""Delivering one SMS or e-mail: send with retries, then wait for the provider's final delivery status.

The message itself (recipient, body) stays encrypted in the database; the workflow only carries its id, so codes
and phone numbers never enter Temporal's history.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.messaging import MessagingActivities
    from contracts.messaging import (
        FINAL_STATUSES,
        DeliverMessageInput,
        DeliveryStatusReport,
        MessageDeliveryInput,
        MessageDeliveryResult,
        RecordStatusInput,
    )

# Callbacks may overtake the send's own answer; a status only ever moves forward.
STATUS_RANK = {"pending": 0, "queued": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}


@workflow.defn(name="MessageDelivery")
class MessageDeliveryWorkflow:
    def __init__(self) -> None:
        self._reports: list[DeliveryStatusReport] = []
        self._status = "pending"
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self, data: MessageDeliveryInput) -> MessageDeliveryResult:
        try:
            receipt = await workflow.execute_activity_method(
                MessagingActivities.deliver_message,
                DeliverMessageInput(message_id=data.message_id, followed=True),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=1),
                    maximum_interval=timedelta(seconds=30),
                    maximum_attempts=data.send_attempts,
                    non_retryable_error_types=["MessageNotFound"],
                ),
            )
        except ActivityError:
            await self._record(
                data.message_id, DeliveryStatusReport(status="failed", error_code="provider_unavailable")
            )
            return MessageDeliveryResult(
                message_id=data.message_id, status="failed", error_code="provider_unavailable", confirmed=False
            )
        if STATUS_RANK.get(receipt.status, 0) > STATUS_RANK.get(self._status, 0):
            self._status = receipt.status
        if self._status not in FINAL_STATUSES:
            # If the provider never tells us, the message stays at its last reported status.
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._status in FINAL_STATUSES, timeout=timedelta(seconds=data.status_wait_seconds)
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        return MessageDeliveryResult(
            message_id=data.message_id,
            status=self._status,
            provider_message_id=receipt.provider_message_id,
            error_code=receipt.error_code,
            confirmed=self._status in FINAL_STATUSES,
        )

    @workflow.signal(name="delivery_status")
    async def delivery_status(self, report: DeliveryStatusReport) -> None:
        """The provider's callback, relayed by the webhook route. Duplicates and late arrivals are harmless:
        the database keeps the furthest status."""
        async with self._lock:
            try:
                self._status = await self._record(workflow.info().workflow_id.removeprefix("message-"), report)
            except ActivityError:
                workflow.logger.warning("could not record status %s of %s", report.status, workflow.info().workflow_id)

    @workflow.query(name="status")
    def status(self) -> str:
        return self._status

    async def _record(self, message_id: str, report: DeliveryStatusReport) -> str:
        result = await workflow.execute_activity_method(
            MessagingActivities.record_message_status,
            RecordStatusInput(message_id=message_id, status=report.status, error_code=report.error_code),
            start_to_close_timeout=timedelta(seconds=15),
        )
        return result.status
