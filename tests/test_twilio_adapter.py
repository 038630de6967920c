"""The Twilio adapter, through the real twilio SDK, against a fake Twilio HTTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator

import pytest

from providers.messaging.protocol import OutgoingSms, ProviderUnavailable, RecipientRejected
from providers.messaging.twilio_signature import twilio_signature, twilio_signature_is_valid
from providers.messaging.twilio_sms import TwilioSms
from tests.fake_twilio_server import FakeTwilioServer

SID, TOKEN = "AC" + "1" * 32, "secret-token"


@pytest.fixture
def twilio() -> Iterator[FakeTwilioServer]:
    with FakeTwilioServer(SID, TOKEN) as server:
        yield server


def adapter(server: FakeTwilioServer, token: str = TOKEN) -> TwilioSms:
    return TwilioSms(SID, token, "+15005550006", api_base=server.url, timeout_s=5)


async def test_a_message_is_created_with_its_status_callback(twilio: FakeTwilioServer) -> None:
    message = OutgoingSms("+447700900300", "hello", "m-1", "https://lendflow.example/v1/webhooks/twilio/status?x=1")
    receipt = await adapter(twilio).send_sms(message)
    assert receipt.provider == "twilio"
    assert receipt.provider_message_id.startswith("SM")
    assert receipt.status == "queued"
    [sent] = twilio.received
    assert sent == {
        "To": "+447700900300",
        "From": "+15005550006",
        "Body": "hello",
        "StatusCallback": message.status_callback_url,
    }


async def test_an_invalid_number_is_a_rejection_not_an_outage(twilio: FakeTwilioServer) -> None:
    with pytest.raises(RecipientRejected) as rejected:
        await adapter(twilio).send_sms(OutgoingSms("+15005550001", "hello", "m-2"))
    assert rejected.value.code == "21211"


async def test_a_twilio_outage_is_retryable(twilio: FakeTwilioServer) -> None:
    twilio.unavailable = True
    with pytest.raises(ProviderUnavailable):
        await adapter(twilio).send_sms(OutgoingSms("+447700900301", "hello", "m-3"))


async def test_wrong_credentials_are_not_mistaken_for_a_bad_number(twilio: FakeTwilioServer) -> None:
    with pytest.raises(ProviderUnavailable):
        await adapter(twilio, token="wrong").send_sms(OutgoingSms("+447700900302", "hello", "m-4"))


async def test_an_unreachable_twilio_is_retryable() -> None:
    unreachable = TwilioSms(SID, TOKEN, "+15005550006", api_base="http://127.0.0.1:9", timeout_s=1)
    with pytest.raises(ProviderUnavailable):
        await unreachable.send_sms(OutgoingSms("+447700900303", "hello", "m-5"))


def test_signatures_are_twilios_own() -> None:
    # Twilio's documented scheme: base64(HMAC-SHA1(auth token, URL + each POST field name and value, sorted by name)).
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    signed = url + "".join(name + params[name] for name in sorted(params))
    expected = base64.b64encode(hmac.new(b"12345", signed.encode(), hashlib.sha1).digest()).decode()
    signature = twilio_signature("12345", url, params)
    assert signature == expected == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert twilio_signature_is_valid("12345", url, params, signature)
    assert not twilio_signature_is_valid("12345", url, {**params, "Digits": "9999"}, signature)
