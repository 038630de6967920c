"""Connections for postings that are their whole transaction: each in autocommit, so one entry is one round trip
(`ledger_post_one` is atomic on its own). Kept apart from SQLAlchemy's pool on purpose: a connection borrowed from
there would have to be switched to autocommit and back on every use, and its checkout costs more client CPU than
the posting itself (docs/ledger.md has the figures)."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg

from domain.ledger import EntryDraft
from store.db import psycopg_conninfo
from store.ledger import PostedEntry, post_on


class PostingPool:
    def __init__(self, database_url: str, size: int = 8) -> None:
        self._conninfo = psycopg_conninfo(database_url)
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._slots = asyncio.Semaphore(size)

    async def post(self, draft: EntryDraft) -> PostedEntry:
        """Post one entry alone: the same answers as `store.ledger.post` (a replay returns the first entry, other
        content under the key is a conflict), committed when it returns."""
        async with self._slots:
            connection = self._idle.pop() if self._idle else await self._connect()
            try:
                posted = await post_on(connection, draft)
            except psycopg.OperationalError:
                await connection.close()  # a broken connection is not put back
                raise
            except BaseException:
                self._give_back(connection)
                raise
            self._give_back(connection)
            return posted

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)

    def _give_back(self, connection: psycopg.AsyncConnection[Any]) -> None:
        if not connection.closed and connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            self._idle.append(connection)

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().close()
