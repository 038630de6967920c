"""One-time codes: six random digits, kept only as a keyed hash, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_code(digits: int = 6) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(digits))


def code_hash(secret: str, phone_lookup: bytes, code: str) -> bytes:
    # Bound to the phone, so a hash copied from one row is useless for another phone.
    return hmac.new(secret.encode(), phone_lookup + b":" + code.encode(), hashlib.sha256).digest()


def code_matches(secret: str, phone_lookup: bytes, code: str, stored: bytes) -> bool:
    return hmac.compare_digest(code_hash(secret, phone_lookup, code), stored)
