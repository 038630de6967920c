"""The platform as the browser faces reach it: the API's own routes, called in-process (no network hop) with a
short-lived token minted for the person signed in. Whatever a page shows or does went through the same
authorisation, validation, idempotency and audit as an integrator's request."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from api.security.tokens import Principal, issue_token
from config import Settings
from web.in_process import Answer, call

TOKEN_TTL = timedelta(minutes=2)


@dataclass
class ApiProblem(Exception):
    """An answer of the API that is not a success: shown to the staff member as it came (problem+json)."""

    status: int
    detail: str
    code: str = ""
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.detail


class PlatformApi:
    def __init__(self, app: FastAPI, settings: Settings, principal: Principal, client_host: str | None = None) -> None:
        self._app = app
        self._headers = {"Authorization": f"Bearer {issue_token(principal, settings.jwt_secret, TOKEN_TTL)}"}
        # The API keeps the person's own address (as a digest) in its audit rows, not the page's.
        self._client = (client_host or "127.0.0.1", 0)

    async def __aenter__(self) -> PlatformApi:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> Answer:
        return await call(
            self._app,
            method,
            path,
            params=params,
            headers={**self._headers, **(headers or {})},
            body=body,
            client=self._client,
        )

    async def get(self, path: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v is not None and v != ""}
        return self._answer(await self._call("GET", path, params=query))

    async def get_text(self, path: str, accept: str, **params: Any) -> Answer:
        query = {k: v for k, v in params.items() if v is not None and v != ""}
        answer = await self._call("GET", path, params=query, headers={"Accept": accept})
        if answer.status >= 400:
            self._answer(answer)
        return answer

    async def send(
        self, method: str, path: str, body: Any = None, *, idempotency_key: str | None = None, **params: Any
    ) -> Any:
        headers = {"Content-Type": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        content = json.dumps(body).encode() if body is not None else b""
        return self._answer(await self._call(method, path, params=params or None, headers=headers, body=content))

    async def upload(self, path: str, content: bytes, content_type: str) -> Any:
        return self._answer(await self._call("POST", path, headers={"Content-Type": content_type}, body=content))

    @staticmethod
    def _answer(answer: Answer) -> Any:
        if answer.status < 400:
            return answer.json()
        try:
            problem = answer.json() or {}
        except ValueError:
            problem = {}
        raise ApiProblem(
            status=answer.status,
            detail=str(problem.get("detail") or problem.get("title") or f"the API answered {answer.status}"),
            code=str(problem.get("code", "")),
            problems=[str(p) for p in problem.get("problems", []) if isinstance(p, str)],
        )
