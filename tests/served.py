"""The test session's app over real HTTP, for what must reach it from another process (a provider fake in a worker
process, the schemathesis fuzzer): uvicorn on a free port, in the test's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn

from tests.conftest import Stack
from workers.devstack.ports import free_port


@contextlib.asynccontextmanager
async def served_api(stack: Stack) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(stack.app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
