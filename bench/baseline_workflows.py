"""The engine's own limit for the origination bench: a workflow shaped like the decision path (one step, three in
parallel, one step) whose activities do nothing but wait as long as the fake providers answer."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_wait")
async def bench_wait(seconds: float) -> None:
    if seconds:
        await asyncio.sleep(seconds)


@workflow.defn(name="BenchDecisionShape")
class DecisionShapeWorkflow:
    @workflow.run
    async def run(self, waits: list[float]) -> None:
        """`waits`: the bureau's and the scoring provider's latency (0 for a pure no-op baseline)."""

        async def step(seconds: float) -> None:
            await workflow.execute_activity("bench_wait", seconds, start_to_close_timeout=timedelta(seconds=30))

        await step(0)  # the status change
        await asyncio.gather(step(0), step(waits[0]), step(waits[1]))  # anti-fraud, bureau, scoring
        await step(0)  # the decision
