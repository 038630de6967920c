"""The signing code's digest: what is kept and compared instead of the code itself (in the database, and in the
workflow's history, which must hold no code a reader could replay)."""

from __future__ import annotations

import hashlib
import hmac


def signing_code_digest(secret: bytes, application_id: str, code: str) -> bytes:
    return hmac.new(secret, f"sign:{application_id}:{code}".encode(), hashlib.sha256).digest()
