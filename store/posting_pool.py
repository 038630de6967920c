"""Connections for postings that are their whole transaction, with group commit: an entry posted while the pool's
connections are all busy waits for the next free one and travels with every other entry that waited, in one
statement and one commit (`ledger_post_batch`, migration 0021). With one entry at a time nothing waits and it goes
alone, one round trip in autocommit (`ledger_post_one`). Under load the commits — each a WAL flush — and the round
trips are shared by the batch, which is what lets the workers' path outrun a transaction per entry
(docs/ledger.md has the figures).

Kept apart from SQLAlchemy's pool on purpose: a connection borrowed from there would have to be switched to autocommit
and back on every use, and its checkout costs more client CPU than the posting itself."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg

from domain.ledger import EntryDraft
from store.db import psycopg_conninfo
from store.ledger import LedgerError, PostedEntry, post_batch_on, post_on

Waiting = tuple[EntryDraft, "asyncio.Future[PostedEntry]"]


class PostingPool:
    def __init__(
        self, database_url: str, size: int = 4, batch_limit: int = 50, application_name: str = "lendflow-postings"
    ) -> None:
        """`size` connections at most; a batch holds at most `batch_limit` entries (each is a subtransaction and
        PostgreSQL keeps 64 of those per transaction in shared memory before it slows down). The connections show
        as `application_name` in `pg_stat_activity`."""
        self._conninfo = psycopg_conninfo(database_url)
        self._application_name = application_name
        self._size = size
        self._batch_limit = batch_limit
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._waiting: list[Waiting] = []
        self._senders = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.commits = 0  # statements sent, each its own transaction: entries / commits is the batching achieved
        self.entries = 0

    async def post(self, draft: EntryDraft) -> PostedEntry:
        """Post one entry alone: the same answers as `store.ledger.post` (a replay returns the first entry, other
        content under the key is a conflict), committed when it returns."""
        future: asyncio.Future[PostedEntry] = asyncio.get_running_loop().create_future()
        self._waiting.append((draft, future))
        if self._senders < self._size:
            self._start_sender()
        return await future

    def _start_sender(self) -> None:
        self._senders += 1
        task = asyncio.create_task(self._send_while_waiting())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_while_waiting(self) -> None:
        """One connection's loop: take everything waiting (up to the limit), post it, repeat until nothing waits."""
        connection: psycopg.AsyncConnection[Any] | None = None
        try:
            while self._waiting:
                batch = [w for w in self._waiting[: self._batch_limit] if not w[1].cancelled()]
                del self._waiting[: self._batch_limit]
                if not batch:
                    continue
                try:
                    if connection is None:
                        connection = self._idle.pop() if self._idle else await self._connect()
                    await self._post(connection, batch)
                except Exception as err:  # the connection broke: these entries fail, the next sender reconnects
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(err)
                    if connection is not None:
                        await connection.close()
                    connection = None
                    break
        finally:
            self._senders -= 1
            if connection is not None:
                self._give_back(connection)
            if self._waiting and self._senders < self._size:
                self._start_sender()

    async def _post(self, connection: psycopg.AsyncConnection[Any], batch: list[Waiting]) -> None:
        self.entries += len(batch)
        if len(batch) > 1:
            try:
                answers = await post_batch_on(connection, [draft for draft, _ in batch])
            except psycopg.OperationalError:
                raise
            except psycopg.Error:
                answers = None  # something other than a refusal: each entry goes alone and gets its own answer
            if answers is not None:
                self.commits += 1
                for (_, future), answer in zip(batch, answers, strict=True):
                    _settle(future, answer)
                return
        for draft, future in batch:
            self.commits += 1
            try:
                _settle(future, await post_on(connection, draft))
            except psycopg.OperationalError:
                raise
            except Exception as err:  # a refusal (LedgerError) or any other error: this entry's answer
                if not future.done():
                    future.set_exception(err)

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, application_name=self._application_name
        )

    def _give_back(self, connection: psycopg.AsyncConnection[Any]) -> None:
        if not connection.closed and connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            self._idle.append(connection)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        while self._idle:
            await self._idle.pop().close()


def _settle(future: asyncio.Future[PostedEntry], answer: PostedEntry | LedgerError) -> None:
    if future.done():  # its caller gave up; the entry stands (its key makes a retry answer the same)
        return
    if isinstance(answer, LedgerError):
        future.set_exception(answer)
    else:
        future.set_result(answer)
