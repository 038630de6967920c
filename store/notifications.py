"""Changes the database announces (LISTEN/NOTIFY), fanned out in one process: one connection listens, any number
of waiters each get the ids they asked about. A borrower's app following its application holds no connection of
its own and sends no query until something changed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import psycopg

from store.db import psycopg_conninfo

log = logging.getLogger("lendflow.notifications")
CHANNEL = "application_status"


class ApplicationStatusListener:
    def __init__(self, database_url: str) -> None:
        self._conninfo = psycopg_conninfo(database_url)
        self._waiters: dict[str, set[asyncio.Queue[str]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    async def _listen(self) -> None:
        while True:
            try:
                connection: psycopg.AsyncConnection[Any] = await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True
                )
                async with connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    async for notice in connection.notifies():
                        for queue in self._waiters.get(notice.payload, ()):
                            queue.put_nowait(notice.payload)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # the database restarted: listen again, waiters re-read on their own timer
                log.warning("application status listener lost its connection: %s", err)
                self._ready.clear()
                await asyncio.sleep(1)

    @contextlib.asynccontextmanager
    async def watch(self, application_id: str) -> AsyncIterator[asyncio.Queue[str]]:
        """A queue that receives the id each time the application's status changes (from now on)."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen())
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._waiters.setdefault(application_id, set()).add(queue)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout=2)
            yield queue
        finally:
            found = self._waiters.get(application_id)
            if found is not None:
                found.discard(queue)
                if not found:
                    del self._waiters[application_id]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
