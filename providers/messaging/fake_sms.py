"""A local SMS provider that behaves like Twilio: it answers `queued` with an `SM...` id, then posts signed status
callbacks (`sent`, then `delivered` or `undelivered`) to the message's callback URL after a latency, and refuses
Twilio's magic test numbers the way Twilio does.

It keeps nothing itself beyond the process: what it "sent" is readable through the outbound-messages table (the
activity records every receipt), which is what `GET /v1/dev/outbox` shows.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from providers.http_client import PooledHttpClient
from providers.messaging.protocol import (
    OutgoingSms,
    ProviderReceipt,
    ProviderUnavailable,
    RecipientRejected,
)
from providers.messaging.twilio_signature import twilio_signature

log = logging.getLogger(__name__)

# Twilio's test numbers and the errors Twilio gives for them.
REJECTED_NUMBERS = {
    "+15005550001": ("21211", "The 'To' number is not a valid phone number."),
    "+15005550009": ("21614", "The 'To' number is not a mobile number."),
    "+15005550004": ("21610", "The recipient has opted out of messages from this number."),
}
# Accepted, then reported undelivered by callback (an unreachable handset).
UNREACHABLE_PREFIX = "+1500555099"


@dataclass
class FakeSmsBehaviour:
    latency_s: float = 0.2
    # Transient failures to answer before succeeding again (as a provider outage would look).
    failures_to_inject: int = 0


@dataclass
class SentSms:
    sid: str
    message: OutgoingSms
    statuses: list[str] = field(default_factory=list)


class FakeSms:
    name = "fake"

    def __init__(
        self,
        auth_token: str,
        account_sid: str = "ACfake",
        *,
        behaviour: FakeSmsBehaviour | None = None,
        http_client_factory: Callable[[], httpx.AsyncClient] = httpx.AsyncClient,
    ) -> None:
        self._auth_token = auth_token
        self._account_sid = account_sid
        self.behaviour = behaviour or FakeSmsBehaviour()
        self._http = PooledHttpClient(http_client_factory)
        self.sent: list[SentSms] = []
        self._callbacks: set[asyncio.Task[None]] = set()

    async def send_sms(self, message: OutgoingSms) -> ProviderReceipt:
        if self.behaviour.failures_to_inject > 0:
            self.behaviour.failures_to_inject -= 1
            raise ProviderUnavailable("fake sms: 503 Service Unavailable")
        if message.to in REJECTED_NUMBERS:
            code, detail = REJECTED_NUMBERS[message.to]
            raise RecipientRejected(code, detail)
        sid = "SM" + secrets.token_hex(16)
        record = SentSms(sid, message, ["queued"])
        self.sent.append(record)
        if message.status_callback_url:
            task = asyncio.create_task(self._report_statuses(record))
            self._callbacks.add(task)
            task.add_done_callback(self._callbacks.discard)
        return ProviderReceipt(self.name, sid, "queued")

    async def _report_statuses(self, record: SentSms) -> None:
        final = "undelivered" if record.message.to.startswith(UNREACHABLE_PREFIX) else "delivered"
        for status in ("sent", final):
            await asyncio.sleep(self.behaviour.latency_s)
            record.statuses.append(status)
            await self._post_callback(record, status)

    async def _post_callback(self, record: SentSms, status: str) -> None:
        url = record.message.status_callback_url
        assert url is not None
        params = {
            "AccountSid": self._account_sid,
            "MessageSid": record.sid,
            "SmsSid": record.sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": record.message.to,
            "ApiVersion": "2010-04-01",
        }
        if status == "undelivered":
            params["ErrorCode"] = "30003"
        headers = {"X-Twilio-Signature": twilio_signature(self._auth_token, url, params)}
        for attempt in range(3):
            try:
                response = await self._http.get().post(url, data=params, headers=headers, timeout=5.0)
                if response.status_code < 500:
                    return
            except httpx.HTTPError as err:
                log.info("fake sms callback to %s failed (%s), attempt %d", url, err, attempt + 1)
            await asyncio.sleep(0.5 * (attempt + 1))

    async def drain(self) -> None:
        """Wait for the callbacks in flight (tests, and a clean shutdown)."""
        while self._callbacks:
            await asyncio.gather(*list(self._callbacks), return_exceptions=True)
