"""Sending a stored message through the configured provider and recording what the provider says."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.messaging import (
    DeliverMessageInput,
    DeliveryReceipt,
    RecordStatusInput,
    RecordStatusResult,
)
from providers.messaging.protocol import (
    EmailSender,
    OutgoingEmail,
    OutgoingSms,
    ProviderUnavailable,
    RecipientRejected,
    SmsSender,
)
from store.pii import PiiCipher
from store.repositories import messages


class MessagingActivities:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        cipher: PiiCipher,
        sms: SmsSender,
        email: EmailSender,
        public_base_url: str,
    ) -> None:
        self._sessions = session_factory
        self._cipher = cipher
        self._sms = sms
        self._email = email
        self._public_base_url = public_base_url.rstrip("/")

    @activity.defn(name="deliver_message")
    async def deliver_message(self, data: DeliverMessageInput) -> DeliveryReceipt:
        """Hand the message to its provider once. A retry after the provider accepted it (the worker died before
        the workflow heard back) finds the receipt already recorded and sends nothing again."""
        message_id = uuid.UUID(data.message_id)
        async with self._sessions.begin() as session:
            content = await messages.message_content(session, self._cipher, message_id)
            if content is None:
                raise ApplicationError(f"message {message_id} not found", type="MessageNotFound", non_retryable=True)
            if content.provider_message_id is not None:
                return DeliveryReceipt(
                    provider=content.provider or "",
                    provider_message_id=content.provider_message_id,
                    status=content.status,
                )
            await messages.count_attempt(session, message_id)
        try:
            if content.channel == "sms":
                callback = f"{self._public_base_url}/v1/webhooks/twilio/status?message_id={message_id}"
                if data.followed:
                    callback += "&followed=1"
                receipt = await self._sms.send_sms(OutgoingSms(content.to, content.body, str(message_id), callback))
            else:
                receipt = await self._email.send_email(
                    OutgoingEmail(content.to, content.subject or "", content.body, str(message_id))
                )
        except RecipientRejected as rejected:
            async with self._sessions.begin() as session:
                await messages.record_status(session, message_id, "failed", rejected.code)
            return DeliveryReceipt(
                provider=self._provider_name(content.channel),
                provider_message_id=None,
                status="failed",
                error_code=rejected.code,
            )
        except ProviderUnavailable as err:
            raise ApplicationError(str(err), type="ProviderUnavailable") from err
        async with self._sessions.begin() as session:
            await messages.record_receipt(
                session,
                message_id,
                provider=receipt.provider,
                provider_message_id=receipt.provider_message_id,
                status=receipt.status,
            )
        return DeliveryReceipt(
            provider=receipt.provider, provider_message_id=receipt.provider_message_id, status=receipt.status
        )

    @activity.defn(name="record_message_status")
    async def record_message_status(self, data: RecordStatusInput) -> RecordStatusResult:
        try:
            async with self._sessions.begin() as session:
                status = await messages.record_status(session, uuid.UUID(data.message_id), data.status, data.error_code)
        except LookupError as err:
            raise ApplicationError(str(err), type="MessageNotFound", non_retryable=True) from err
        return RecordStatusResult(status=status)

    def _provider_name(self, channel: str) -> str:
        return self._sms.name if channel == "sms" else self._email.name
