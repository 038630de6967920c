"""X-Twilio-Signature, computed and checked with the twilio SDK's own RequestValidator, so the API can verify
callbacks without knowing how Twilio signs and the fake signs exactly as Twilio does."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


def twilio_signature_is_valid(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))
