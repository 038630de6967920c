"""`python bench/baseline_worker.py <temporal address> <task queue>`: serves the baseline workflows in their own
process, as `lendflow worker` serves the real ones."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.worker import Worker

from bench.baseline_workflows import DecisionShapeWorkflow, bench_wait
from config import Settings
from workflows.client import connect_temporal


async def main(address: str, queue: str) -> None:
    client = await connect_temporal(address, Settings())
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with Worker(client, task_queue=queue, workflows=[DecisionShapeWorkflow], activities=[bench_wait]):
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
