"""Every workflow and activity payload encrypted before it leaves the process: the Temporal server (and whoever
reads its database or a history export) stores only ciphertext. AES-256-GCM with a random 96-bit nonce per
payload; the key id travels in the payload's metadata, so keys rotate by adding a new current key and keeping the
old ones for reading. A payload without our encoding (histories recorded before encryption, the replay tests'
files) is read as it is.

The codec runs in the client (API, workers, CLI, tests), never inside the workflow sandbox; the Temporal Web UI
decodes through the codec server (api/codec_server.py) with the same keys."""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12


class UnknownPayloadKey(ValueError):
    """A payload encrypted with a key this process was not given (a key retired too early)."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError(f"the current payload key {current!r} is not among the keys")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = current

    @classmethod
    def from_settings(cls, keys: dict[str, str], current: str) -> EncryptionCodec:
        return cls({key_id: base64.b64decode(value) for key_id, value in keys.items()}, current)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        # The key id is authenticated with the ciphertext: a payload cannot be relabelled to another key.
        sealed = self._ciphers[self._current].encrypt(nonce, payload.SerializeToString(), self._current.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID: self._current.encode()}, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownPayloadKey(f"no payload key {key_id!r} is configured (LENDFLOW_PAYLOAD_KEYS)")
        plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode())
        return Payload.FromString(plain)
