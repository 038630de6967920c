"""SMS through Twilio's Messages API on the official `twilio` SDK.

The SDK's HTTP client is synchronous; calls run in a worker thread so the activity's event loop stays free.
`api_base` points the SDK at another host (the tests' fake Twilio server); production leaves it unset.
"""

from __future__ import annotations

import asyncio
from typing import Any

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from providers.messaging.protocol import (
    OutgoingSms,
    ProviderReceipt,
    ProviderUnavailable,
    RecipientRejected,
)

TWILIO_API_BASE = "https://api.twilio.com"
# Twilio error codes that mean "this recipient will never get it", documented on twilio.com/docs/api/errors.
PERMANENT_RECIPIENT_ERRORS = {21211, 21214, 21408, 21610, 21612, 21614}


class _RebasedHttpClient(TwilioHttpClient):
    def __init__(self, api_base: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._api_base = api_base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(TWILIO_API_BASE):
            url = self._api_base + url[len(TWILIO_API_BASE) :]
        return super().request(method, url, *args, **kwargs)


class TwilioSms:
    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        api_base: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        http_client = _RebasedHttpClient(api_base, timeout_s) if api_base else TwilioHttpClient(timeout=timeout_s)
        self._client = Client(account_sid, auth_token, http_client=http_client)
        self._from = from_number

    async def send_sms(self, message: OutgoingSms) -> ProviderReceipt:
        return await asyncio.to_thread(self._send, message)

    def _send(self, message: OutgoingSms) -> ProviderReceipt:
        options: dict[str, Any] = {"to": message.to, "from_": self._from, "body": message.body}
        if message.status_callback_url:
            options["status_callback"] = message.status_callback_url
        try:
            created = self._client.messages.create(**options)
        except TwilioRestException as err:
            if err.code in PERMANENT_RECIPIENT_ERRORS:
                raise RecipientRejected(str(err.code), err.msg) from err
            raise ProviderUnavailable(f"twilio {err.status} {err.code}: {err.msg}") from err
        except OSError as err:  # connection refused, timeouts
            raise ProviderUnavailable(f"twilio unreachable: {err}") from err
        return ProviderReceipt("twilio", str(created.sid), _status(created.status))


def _status(value: Any) -> Any:
    text = str(value.value if hasattr(value, "value") else value)
    return text if text in {"queued", "sent", "delivered", "failed", "undelivered"} else "queued"
