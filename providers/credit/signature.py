"""Bureau and scoring callbacks are signed `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>` with a secret
shared with each provider (the scheme most bureaus and our ingestion API use)."""

from __future__ import annotations

import hashlib
import hmac

from providers.credit.protocol import InvalidSignature


def sign_body(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_body(secret: str, body: bytes, header: str | None) -> None:
    if not header or not hmac.compare_digest(sign_body(secret, body), header.strip()):
        raise InvalidSignature("the X-Signature header does not match the body")
