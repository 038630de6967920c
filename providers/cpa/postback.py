"""Sending a conversion postback: a GET of the URL the network's template produced. Networks answer 2xx when they
took it; anything else (or no answer) is tried again later by the postback workflow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import httpx

from providers.http_client import PooledHttpClient


class PostbackRefused(Exception):
    pass


class PostbackSender(Protocol):
    async def send(self, url: str) -> None: ...


class HttpPostback:
    def __init__(
        self, *, timeout_s: float = 10.0, http_client_factory: Callable[[], httpx.AsyncClient] = httpx.AsyncClient
    ) -> None:
        self._timeout, self._http = timeout_s, PooledHttpClient(http_client_factory)

    async def send(self, url: str) -> None:
        try:
            response = await self._http.get().get(url, timeout=self._timeout)
        except httpx.HTTPError as err:
            raise PostbackRefused(f"{type(err).__name__}: {err}") from err
        if response.status_code >= 300:
            raise PostbackRefused(f"HTTP {response.status_code}")


class FakeCpaNetworks:
    """Records what it was sent; refuses the next `failures_to_inject` postbacks like a network that is down."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.failures_to_inject = 0

    async def send(self, url: str) -> None:
        if self.failures_to_inject > 0:
            self.failures_to_inject -= 1
            raise PostbackRefused("HTTP 503")
        self.received.append(url)
