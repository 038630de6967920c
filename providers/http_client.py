"""One pooled HTTP client per adapter, made when first needed.

Making an `httpx.AsyncClient` loads the CA bundle into a new TLS context (about 50 ms of CPU); an adapter that made
one per call spent most of a busy worker's time doing that. The client is tied to the event loop it was made on,
so a new loop (a new test, a restarted worker) gets its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx


class PooledHttpClient:
    def __init__(self, factory: Callable[[], httpx.AsyncClient] = httpx.AsyncClient) -> None:
        self._factory = factory
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            self._client, self._loop = self._factory(), loop
        return self._client
