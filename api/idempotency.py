"""`Idempotency-Key` on POSTs that create something or move money: the same key with the same body answers what
the first request answered; with another body, 409. The key is claimed in the request's own transaction, so a
request that fails leaves the key free, and a concurrent duplicate waits for the first and then replays it."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from api.dependencies import CurrentPrincipal, Db
from api.problems import Problem
from store.repositories.idempotency import claim_key, remember_response

KEY_NAMESPACE = uuid.UUID("5d1c7f0e-3f0b-4d8e-9a57-2f8a3e1c6b10")

IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255, min_length=1)]


class IdempotentRequest:
    def __init__(self, session: AsyncSession, scope: str, key: str | None, request_hash: bytes) -> None:
        self._session, self.scope, self.key, self._hash = session, scope, key, request_hash

    def operation_id(self) -> str:
        """A stable id for what this request does: the same key always names the same operation."""
        if self.key is None:
            return str(uuid.uuid4())
        return str(uuid.uuid5(KEY_NAMESPACE, f"{self.scope}:{self.key}"))

    async def replay(self) -> JSONResponse | None:
        if self.key is None:
            return None
        stored = await claim_key(self._session, scope=self.scope, key=self.key, request_hash=self._hash)
        if stored is None:
            return None
        if stored.request_hash != self._hash:
            raise Problem(409, "conflict", "this Idempotency-Key was used with a different request")
        if stored.status_code is None:
            raise Problem(409, "conflict", "a request with this Idempotency-Key is still being processed")
        return JSONResponse(stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"})

    async def answer(self, status_code: int, body: Any) -> JSONResponse:
        encoded = jsonable_encoder(body)
        if self.key is not None:
            await remember_response(
                self._session, scope=self.scope, key=self.key, status_code=status_code, body=encoded
            )
        return JSONResponse(encoded, status_code=status_code)


async def idempotent_request(
    request: Request, session: AsyncSession, caller: str, key: str | None
) -> IdempotentRequest:
    body = await request.body()
    request_hash = hashlib.sha256(request.method.encode() + b" " + request.url.path.encode() + b"\n" + body).digest()
    return IdempotentRequest(session, f"{caller}:{request.method}:{request.url.path}", key, request_hash)


async def _idempotency(
    request: Request, session: Db, principal: CurrentPrincipal, idempotency_key: IdempotencyKeyHeader = None
) -> IdempotentRequest:
    return await idempotent_request(request, session, f"{principal.kind}:{principal.id}", idempotency_key)


# A route that declares `idem: Idempotency` gets the caller's key (scoped to the caller and the route) and the
# request's hash; it answers `await idem.replay()` when that is not None, and `await idem.answer(...)` otherwise.
Idempotency = Annotated[IdempotentRequest, Depends(_idempotency)]
