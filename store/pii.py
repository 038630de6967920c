"""Personal data at rest: encrypted with a key from configuration, and found again by a keyed hash.

Phones and e-mail addresses must be looked up (sign-in, outbox), so each one also gets an HMAC "blind index":
equal inputs give equal lookups, and without the key the lookup says nothing about the value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet


class PiiCipher:
    def __init__(self, key: str) -> None:
        raw = base64.urlsafe_b64decode(key.encode())
        if len(raw) != 32:
            raise ValueError("LENDFLOW_PII_KEY must be 32 bytes, url-safe base64 encoded (a Fernet key)")
        self._fernet = Fernet(key.encode())
        # Separate keys for encryption and lookup, derived so one configured secret is enough.
        self._lookup_key = hashlib.sha256(b"lendflow-lookup:" + raw).digest()

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes) -> str:
        return self._fernet.decrypt(token).decode()

    def encrypt_bytes(self, value: bytes) -> bytes:
        """A document (the agreement's PDF) sealed like a phone number."""
        return self._fernet.encrypt(value)

    def decrypt_bytes(self, token: bytes) -> bytes:
        return self._fernet.decrypt(bytes(token))

    def address_digest(self, address: str) -> str:
        """A network address as it is kept at rest: a keyed digest (equal addresses, equal digests)."""
        return "a:" + self.lookup(address).hex()[:32]

    def lookup(self, value: str) -> bytes:
        return hmac.new(self._lookup_key, value.strip().lower().encode(), hashlib.sha256).digest()
