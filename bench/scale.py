"""Scale-out of the bulk work: close of business in loan id ranges and commission distribution in event lanes, with
one and with two worker processes against the same PostgreSQL server and Temporal dev server.

    python bench/scale.py [--loans 200000] [--events 1000000] [--partners 10000] [--cob-parts 8] [--lanes 4]

One embedded PostgreSQL (durable) holds a book of `--loans` loans with their projected nights (as `bench/cob.py`
builds it, without the nights' notices: telling 200,000 loan workflows is not the bulk work measured here) and a
10,000-partner network with `--events` deposits waiting for distribution (as `bench/commissions.py` builds it).
The database is copied once per worker count (`CREATE DATABASE ... TEMPLATE`), so each run starts from the same
state and does the same work. Then, for 1 and 2 `lendflow worker` processes (each with `worker_bulk_slots` = 1,
task queues of their own per run):

- Close of business: the `CobDay` workflow for the first date with `--cob-parts` ranges on the bulk queue.
  `cob_loan_days_per_s` = loans accrued / the accrual phase (first `cob_accrue_range` scheduled to the last one
  completed, from the workflow's history); `cob_day_s` is the whole date, begin to finish (the daily report and the
  calendar are one step each, not split).
- Distribution: the project's `CommissionDistributor` workflow with `--lanes` lanes, from its start to the last
  batch completed (the queue empty). `events_per_s` = events / that time.

The speed-ups are the two-process figure over the one-process figure of the same run. The last line is one JSON
object with `cob_speedup_2` and `distribution_speedup_2` among the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from bench import cob as cob_bench
from bench import commissions as commission_bench
from bench.stack import bench_database
from config import Settings
from config.task_queues import Family, family_queue
from contracts import visibility
from contracts.commissions import DistributorInput
from contracts.servicing import CobDay, CobResult, cob_workflow_id
from workers.devstack.temporal import temporal_cli_path
from workflows.client import data_converter
from workflows.close_of_business import CobDayWorkflow
from workflows.commissions import CommissionDistributorWorkflow

BATCH = 20_000  # events per distribution transaction, as configured by default


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


async def prepare(url: str, loans: int, partners: int, events: int) -> None:
    began = time.perf_counter()
    await cob_bench.setup(url, loans, nights=2)
    print(f"book: {loans:,} loans in {time.perf_counter() - began:.0f} s", flush=True)
    began = time.perf_counter()
    await commission_bench.setup(url, partners, events)
    print(f"network: {partners:,} partners, {events:,} events in {time.perf_counter() - began:.0f} s", flush=True)
    async with await psycopg.AsyncConnection.connect(plain(url), autocommit=True) as conn:
        await conn.execute("UPDATE loan_night_projections SET notice = NULL WHERE notice IS NOT NULL")
        await conn.execute("CHECKPOINT")


async def copy_database(url: str, name: str) -> str:
    """A copy of the prepared database under `name` (file copy: no other connection may be open on the source)."""
    source = url.rsplit("/", 1)[1]
    admin = plain(url).rsplit("/", 1)[0] + "/postgres"
    async with await psycopg.AsyncConnection.connect(admin, autocommit=True) as conn:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}" STRATEGY FILE_COPY')
    return url.rsplit("/", 1)[0] + "/" + name


def spawn_workers(count: int, env: dict[str, str], logs: Path) -> list[subprocess.Popen[bytes]]:
    lendflow = str(Path(sys.executable).parent / "lendflow")
    return [
        subprocess.Popen(
            [lendflow, "worker"],
            env=os.environ | env,
            stdout=(logs / f"worker-{env['LENDFLOW_TASK_QUEUE_PREFIX']}-{n}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for n in range(count)
    ]


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


async def activity_span(handle: WorkflowHandle[Any, Any], activity: str) -> tuple[float, int, int]:
    """From the history: seconds from the first `activity` scheduled to the last one completed, how many ran, and
    the most that ran at once (started and not yet completed)."""
    scheduled: dict[int, str] = {}
    first = last = None
    count = 0
    moments: list[tuple[float, int]] = []
    async for event in handle.fetch_history_events():
        at = event.event_time.ToDatetime().timestamp()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[event.event_id] = name
            if name == activity and first is None:
                first = at
        elif (
            event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
            and scheduled.get(event.activity_task_started_event_attributes.scheduled_event_id) == activity
        ):
            moments.append((at, 1))
        elif (
            event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
            and scheduled.get(event.activity_task_completed_event_attributes.scheduled_event_id) == activity
        ):
            last, count = at, count + 1
            moments.append((at, -1))
    assert first is not None and last is not None, f"no {activity} in the history"
    running = most = 0
    for _, step in sorted(moments):
        running += step
        most = max(most, running)
    return last - first, count, most


async def checkpoint(url: str) -> None:
    """What an earlier phase left dirty is written out first, so no phase pays for the one before it."""
    async with await psycopg.AsyncConnection.connect(plain(url), autocommit=True) as conn:
        await conn.execute("CHECKPOINT")


async def queue_empty(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(plain(url), autocommit=True) as conn:
        while True:
            cursor = await conn.execute("SELECT EXISTS (SELECT 1 FROM affiliate_event_queue)")
            if not (await cursor.fetchone())[0]:  # type: ignore[index]
                return
            await asyncio.sleep(0.5)


async def run_with(
    client: Client, url: str, workers: int, target: str, logs: Path, cob_parts: int, lanes: int
) -> dict[str, float]:
    prefix = f"scale{workers}"
    env = {
        "DATABASE_URL": url,
        "TEMPORAL_ADDRESS": target,
        "LENDFLOW_ENV": "dev",
        "LENDFLOW_DATA_DIR": str(logs),
        "LENDFLOW_TASK_QUEUE_PREFIX": prefix,
        "LENDFLOW_WORKER_BULK_SLOTS": "1",
        "LENDFLOW_COB_SCHEDULE_ENABLED": "false",
        "LENDFLOW_LOG_LEVEL": "WARNING",
    }
    processes = spawn_workers(workers, env, logs)
    try:
        await asyncio.sleep(8)  # the workers connect and poll
        day = cob_bench.FIRST
        await checkpoint(url)
        began = time.perf_counter()
        handle = await client.start_workflow(
            CobDayWorkflow.run,
            CobDay(business_date=day, parts=cob_parts),
            id=f"{prefix}-{cob_workflow_id(day)}",
            task_queue=family_queue(prefix, Family.SERVICING),
        )
        result: CobResult = await handle.result()
        day_s = time.perf_counter() - began
        accrual_s, ranges, cob_at_once = await activity_span(handle, "cob_accrue_range")
        assert ranges == cob_parts and result.loans_accrued > 0, (ranges, result)
        print(
            f"{workers} worker(s): close of business {result.loans_accrued:,} loans, accrual {accrual_s:.1f} s"
            f" = {result.loans_accrued / accrual_s:,.0f} loan-days/s ({cob_at_once} ranges at most at once);"
            f" the date {day_s:.1f} s",
            flush=True,
        )
        await checkpoint(url)
        distributor = await client.start_workflow(
            CommissionDistributorWorkflow.run,
            DistributorInput(project="bench", mode="realtime", batch_size=BATCH, wait_seconds=3_600, parts=lanes),
            id=f"{prefix}-distributor",
            task_queue=family_queue(prefix, Family.COMMISSIONS),
        )
        await queue_empty(url)
        await asyncio.sleep(2)  # the last batches' completions reach the history
        distribution_s, batches, lanes_at_once = await activity_span(distributor, "distribute_commissions")
        await distributor.terminate("bench over")
        async with await psycopg.AsyncConnection.connect(plain(url), autocommit=True) as conn:
            cursor = await conn.execute("SELECT count(DISTINCT event_id), count(*) FROM commission_lines")
            events, lines = await cursor.fetchone()  # type: ignore[misc]
        print(
            f"{workers} worker(s): distribution {events:,} events with lines ({lines:,} lines, {batches} batches)"
            f" in {distribution_s:.1f} s ({lanes_at_once} lanes at most at once)",
            flush=True,
        )
        return {
            "loans": result.loans_accrued,
            "accrual_s": accrual_s,
            "day_s": day_s,
            "distribution_s": distribution_s,
            "lines": lines,
        }
    finally:
        stop(processes)


def dump_logs(directory: Path) -> None:
    for log in sorted(directory.glob("*.log")):
        print(f"== {log.name}", log.read_text()[-3000:], sep="\n", file=sys.stderr)


async def main(loans: int, events: int, partners: int, cob_parts: int, lanes: int) -> dict[str, Any]:
    with bench_database() as url, tempfile.TemporaryDirectory(prefix="lendflow-scale-") as tmp:
        await prepare(url, loans, partners, events)
        copies = {n: await copy_database(url, f"scale_{n}") for n in (1, 2)}
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_cli_path(),
            data_converter=data_converter(Settings()),
            search_attributes=visibility.ALL,
            dev_server_log_level="error",
        )
        target = env.client.service_client.config.target_host
        try:
            runs = {n: await run_with(env.client, copies[n], n, target, Path(tmp), cob_parts, lanes) for n in (1, 2)}
        except BaseException:
            dump_logs(Path(tmp))
            raise
        finally:
            await env.shutdown()
    assert runs[1]["lines"] == runs[2]["lines"], "the two runs must pay the same lines"
    figures: dict[str, Any] = {"loans": loans, "events": events, "cob_parts": cob_parts, "lanes": lanes}
    for n, run in runs.items():
        figures[f"cob_loan_days_per_s_{n}"] = round(run["loans"] / run["accrual_s"])
        figures[f"cob_day_s_{n}"] = round(run["day_s"], 1)
        figures[f"distribution_events_per_s_{n}"] = round(events / run["distribution_s"])
    figures["cob_speedup_2"] = round(runs[1]["accrual_s"] / runs[2]["accrual_s"], 2)
    figures["cob_day_speedup_2"] = round(runs[1]["day_s"] / runs[2]["day_s"], 2)
    figures["distribution_speedup_2"] = round(runs[1]["distribution_s"] / runs[2]["distribution_s"], 2)
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--cob-parts", type=int, default=8)
    parser.add_argument("--lanes", type=int, default=4)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.loans, args.events, args.partners, args.cob_parts, args.lanes))))
