"""Origination under load on the embedded stack, deployed as it runs for real: the API (`lendflow api`) and the
workers (`lendflow worker`, with the fake providers answering at realistic latencies and calling the API back over
HTTP) in their own processes, load from this one.

    python bench/origination.py [--rate 10] [--seconds 30] [--burst 200] [--workers 2] [--decisions-only] [--poll]
                                [--profile DIR]

Applications arrive through the HTTP API at a steady rate, each borrower on the schedule, whether or not the
platform has answered the ones before (until 2026-11-29 the bench waited for each answer before the next arrival, so
a slow API slowed the arrivals: a platform that could not keep up was offered less than the rate asked; the rate
the arrivals kept is printed as `arrival_rate_per_s`), then as one burst. Each steady-phase borrower also walks
on (accept, sign with the SMS code from the dev outbox, link a card) so the time to disbursement is measured too;
a borrower's app follows its application's server-sent event stream as the borrower's pages do (each phone on a
connection of its own), or with `--poll` looks at it once a second, for comparison.
Times run from the borrower's tap (the moment the request is sent) to the automatic decision
(`decision.decided_at`) and to the loan (`loans.created_at`); `api_wait` is the tap to the application's row. In the same run, the engine's own limit: as many workflows shaped like the decision
path (one activity, three in parallel, one) served by as many worker processes of their own (`--workers`, default 2:
one per core), once with no-op activities and
once with activities that only wait as long as the fakes do (bureau 300 ms, scoring 500 ms), started at the same
rate. Per application of the steady phase it also prints where the work went: CPU milliseconds by process
(`api`, `workers`, `postgres`, `temporal`, from /proc; `load` is this process, the borrowers' apps, not counted in
`cpu_ms_per_application`), HTTP requests the API answered, database transactions, and from a sample of histories
the events, workflow tasks, activities and child workflows. From the no-op baseline it measures the engine's own
CPU per history event (the Temporal server and the baseline's worker processes) and prints the floor of an
application: its history's events at that price, before any work of ours (`engine_floor_cpu_ms_per_application`).
`--profile DIR` samples the API and the workers with
py-spy meanwhile. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import text
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.security.tokens import Principal, issue_token
from bench import profiles
from bench.baseline_workflows import DecisionShapeWorkflow
from bench.process_cpu import ProcessCpu, find_pids
from bench.stack import bench_database
from config import Settings
from contracts import visibility
from contracts.origination import application_workflow_id
from store.db import make_engine, make_session_factory
from store.pii import PiiCipher
from store.repositories.identity import user_for_phone
from workers.devstack.ports import free_port, wait_for_port
from workers.devstack.temporal import temporal_cli_path
from workflows.client import data_converter

BUREAU_MS, SCORING_MS, PAYMENTS_MS = 300, 500, 200
POLL_S = 1.0  # how often a borrower's app looks at its application
BURST_FROM = 50_000  # the burst's borrowers: +4477009 and five digits, apart from the steady phase's
TERMS = {
    "principal_min": 10_000,
    "principal_max": 100_000,
    "principal_step": 1_000,
    "term_min_days": 7,
    "term_max_days": 60,
    "daily_rate": "0.008",
    "origination_fee_percent": "5",
}


async def read(http: httpx.AsyncClient, url: str, **options: Any) -> httpx.Response:
    """A GET as a phone makes it: asked again when the connection it went out on was closed under it (a kept-alive
    connection the server closed as it was reused; seen at 15/s, when the machine is past saturation)."""
    for attempt in range(3):
        try:
            return await http.get(url, **options)
        except httpx.TransportError:
            if attempt == 2:
                raise
            await asyncio.sleep(0.1)
    raise AssertionError("unreachable")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Bench:
    def __init__(self, settings: Settings, client: Client, base_url: str, poll: bool = False) -> None:
        self.settings, self.client, self.base_url = settings, client, base_url
        self.poll = poll  # the borrower's app polls its application instead of following its event stream
        self.engine = make_engine(settings.database_url or "", pool_size=5)
        self.sessions = make_session_factory(self.engine)
        self.cipher = PiiCipher(settings.pii_key)
        self.tapped: dict[str, datetime] = {}  # when the borrower sent each application, by its id

    def http(self) -> httpx.AsyncClient:
        limits = httpx.Limits(
            max_connections=1000, max_keepalive_connections=1000, keepalive_expiry=2.0
        )  # as many as borrowers in flight (each phone has its own); expiry < the server's 5 s
        return httpx.AsyncClient(base_url=self.base_url, timeout=120, limits=limits)

    async def product(self, admin: str) -> str:
        async with self.http() as http:
            headers = {"Authorization": f"Bearer {admin}"}
            created = (
                await http.post(
                    "/v1/staff/products", json={"code": "bench", "name": "Bench", "currency": "GBP"}, headers=headers
                )
            ).json()
            valid_from = (datetime.now(UTC) - timedelta(days=1)).isoformat()
            response = await http.post(
                f"/v1/staff/products/{created['id']}/versions",
                json={"valid_from": valid_from, "terms": TERMS},
                headers=headers,
            )
            response.raise_for_status()
            return str(created["id"])

    async def borrower(self, n: int) -> tuple[str, str]:
        phone = f"+4477009{n:05d}"
        async with self.sessions.begin() as s:  # as a first sign-in would (the OTP round trip is not measured)
            user = await user_for_phone(s, self.cipher, phone)
        token = issue_token(Principal("user", user.id), self.settings.jwt_secret, timedelta(hours=2))
        return phone, token

    async def apply(self, http: httpx.AsyncClient, product_id: str, n: int, token: str, phone: str) -> str:
        body = {
            "product_id": product_id,
            "principal": 50_000,
            "term_days": 30,
            "applicant": {
                "full_name": f"Bench {n}",
                "national_id": f"BN{n:08d}7",
                "birth_date": "1990-05-01",
                "phone": phone,
                "monthly_income": 300_000,
            },
            "device_fingerprint": f"bench-device-{n}",
        }
        tapped = datetime.now(UTC)
        response = await http.post("/v1/applications", json=body, headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        app_id = str(response.json()["id"])
        self.tapped[app_id] = tapped
        return app_id

    async def walk_to_disbursement(self, http: httpx.AsyncClient, app_id: str, token: str, phone: str) -> None:
        """What the borrower does once the offer is there, each step as soon as the API allows it."""
        headers = {"Authorization": f"Bearer {token}"}
        await self.until(http, app_id, headers, {"offered"})
        (await http.post(f"/v1/applications/{app_id}/accept", headers=headers)).raise_for_status()
        code = None
        while code is None:
            messages = (await read(http, "/v1/dev/outbox", params={"to": phone})).json()["data"]
            code = next((m["body"].split("code is ")[1][:6] for m in messages if m["purpose"] == "signing_code"), None)
            await asyncio.sleep(POLL_S if code is None else 0)
        (await http.post(f"/v1/applications/{app_id}/sign", json={"code": code}, headers=headers)).raise_for_status()
        (
            await http.post(f"/v1/applications/{app_id}/card", json={"payment_method": "pm_card_visa"}, headers=headers)
        ).raise_for_status()
        await self.until(http, app_id, headers, {"disbursed", "failed"})

    async def until(self, http: httpx.AsyncClient, app_id: str, headers: dict[str, str], statuses: set[str]) -> None:
        """As a real app follows its application: a GET every `POLL_S`, or with `--sse` the server-sent event stream
        (one request, pushed changes)."""
        if not self.poll:
            # Each borrower's phone holds its own connection while it follows (the request pool stays free for
            # the borrowers' commands, as it would: one phone's stream does not queue another's request).
            async with httpx.AsyncClient(base_url=self.base_url, timeout=None) as phone:
                while True:  # a stream ends after five minutes (or when the application ends): open it again
                    async with phone.stream("GET", f"/v1/applications/{app_id}/events", headers=headers) as events:
                        async for line in events.aiter_lines():
                            if line.startswith("data: ") and json.loads(line[6:])["status"] in statuses:
                                return
        while True:
            status = (await read(http, f"/v1/applications/{app_id}", headers=headers)).json()["status"]
            if status in statuses:
                return
            await asyncio.sleep(POLL_S)

    async def timings(self, ids: list[str]) -> tuple[list[float], list[float], list[float]]:
        """Seconds from the borrower's tap (the request sent) to the decision and to the loan, and from the tap to
        the application's row (`created_at`: how long the request waited in the API before it was taken)."""
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    text(
                        "SELECT a.id, a.created_at, a.decision->>'decided_at', l.created_at FROM loan_applications a"
                        " LEFT JOIN loans l ON l.application_id = a.id WHERE a.id = ANY(:ids)"
                    ),
                    {"ids": [uuid.UUID(i) for i in ids]},
                )
            ).all()
        tapped = {uuid.UUID(app_id): at for app_id, at in self.tapped.items()}
        decided = [(datetime.fromisoformat(r[2]) - tapped[r[0]]).total_seconds() for r in rows if r[2]]
        disbursed = [(r[3] - tapped[r[0]]).total_seconds() for r in rows if r[3] is not None]
        taken = [(r[1] - tapped[r[0]]).total_seconds() for r in rows]
        return decided, disbursed, taken

    async def step_lags(self, ids: list[str]) -> dict[str, float]:
        """Median seconds from submission to each step of the decision path: where the time goes."""
        async with self.sessions() as s:
            rows = (
                await s.execute(
                    text(
                        "SELECT c.kind, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM"
                        " coalesce(c.received_at, c.created_at) - a.created_at)) FROM credit_checks c"
                        " JOIN loan_applications a ON a.id = c.application_id WHERE a.id = ANY(:ids) GROUP BY c.kind"
                    ),
                    {"ids": [uuid.UUID(i) for i in ids]},
                )
            ).all()
        return {f"step_{kind}_p50_s": round(float(lag), 3) for kind, lag in rows}

    async def wait_decided(self, ids: list[str], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            async with self.sessions() as s:
                pending = await s.scalar(
                    text("SELECT count(*) FROM loan_applications WHERE id = ANY(:ids) AND decision IS NULL"),
                    {"ids": [uuid.UUID(i) for i in ids]},
                )
            if not pending:
                return
            await asyncio.sleep(0.2)


async def steady(
    bench: Bench, product_id: str, rate: float, seconds: float, walk: bool = True
) -> tuple[list[str], float, float]:
    """Borrowers arrive on a schedule of their own (`rate` a second), whether or not the platform has answered the
    ones before them, as an evening's borrowers do: a slow answer does not slow the arrivals. Returns the
    applications, the phase's length and the rate the arrivals kept."""
    count = int(rate * seconds)
    borrowers = [await bench.borrower(n) for n in range(count)]
    ids: list[str] = [""] * count

    async def arrive(n: int, phone: str, token: str) -> None:
        ids[n] = await bench.apply(http, product_id, n, token, phone)
        if walk:
            await bench.walk_to_disbursement(http, ids[n], token, phone)

    arrivals: list[asyncio.Task[None]] = []
    started = time.monotonic()
    async with bench.http() as http:
        for n, (phone, token) in enumerate(borrowers):
            await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            arrivals.append(asyncio.create_task(arrive(n, phone, token)))
        last_arrival = time.monotonic() - started
        await asyncio.wait_for(asyncio.gather(*arrivals), timeout=900)
    if not walk:
        await bench.wait_decided(ids, timeout_s=600)
    return ids, time.monotonic() - started, (count - 1) / last_arrival if last_arrival else rate


async def burst(bench: Bench, product_id: str, size: int) -> list[str]:
    borrowers = [await bench.borrower(BURST_FROM + n) for n in range(size)]
    async with bench.http() as http:
        ids = await asyncio.gather(
            *(bench.apply(http, product_id, BURST_FROM + n, t, p) for n, (p, t) in enumerate(borrowers))
        )
    await bench.wait_decided(list(ids), timeout_s=300)
    return list(ids)


async def requests_answered(http: httpx.AsyncClient) -> float:
    """The API's own count of requests answered (its /metrics), every route and status."""
    total = 0.0
    for line in (await http.get("/metrics")).text.splitlines():
        if line.startswith("lendflow_http_requests_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def database_transactions(bench: Bench) -> int:
    async with bench.sessions() as s:
        found = await s.scalar(
            text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")
        )
    return int(found or 0)


async def history_shape(client: Client, ids: list[str]) -> dict[str, float]:
    """Per application, from the workflow histories of a sample: events, workflow tasks, activities, children."""
    counts = {"history_events": 0, "workflow_tasks": 0, "activities": 0, "child_workflows": 0}
    for app_id in ids:
        async for event in client.get_workflow_handle(application_workflow_id(app_id)).fetch_history_events():
            counts["history_events"] += 1
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                counts["workflow_tasks"] += 1
            elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                counts["activities"] += 1
            elif event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
                counts["child_workflows"] += 1
    return {f"{name}_per_application": round(count / len(ids), 1) for name, count in counts.items()}


async def baseline(
    client: Client, queue: str, waits: list[float], rate: float, count: int
) -> tuple[list[float], list[str]]:
    """Latencies of `count` baseline workflows started at `rate`, and their workflow ids."""
    ids = [f"bench-base-{uuid.uuid4()}" for _ in range(count)]

    async def one(n: int) -> float:
        begun = time.monotonic()
        await client.execute_workflow(DecisionShapeWorkflow.run, waits, id=ids[n], task_queue=queue)
        return time.monotonic() - begun

    started, tasks = time.monotonic(), []
    for n in range(count):
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        tasks.append(asyncio.create_task(one(n)))
    return list(await asyncio.gather(*tasks)), ids


async def events_per_workflow(client: Client, ids: list[str]) -> float:
    counted = 0
    for workflow_id in ids:
        async for _ in client.get_workflow_handle(workflow_id).fetch_history_events():
            counted += 1
    return counted / len(ids)


def engine_figures(
    noop_cpu: dict[str, float],
    noop_ids: list[str],
    noop_events: float,
    apps: int,
    app_cpu: dict[str, float],
    app_events: float,
) -> dict[str, float]:
    """What the engine alone costs per history event (the Temporal server and the SDK in worker processes, running
    empty workflows), and so what an application's history costs before any work of ours: its floor."""
    engine_s = noop_cpu["temporal"] + noop_cpu["baseline"]
    per_event_ms = 1000 * engine_s / (len(noop_ids) * noop_events)
    return {
        "baseline_events_per_workflow": round(noop_events, 1),
        "baseline_engine_cpu_ms_per_event": round(per_event_ms, 3),
        "baseline_temporal_cpu_ms_per_event": round(1000 * noop_cpu["temporal"] / (len(noop_ids) * noop_events), 3),
        "temporal_cpu_ms_per_event": round(1000 * app_cpu["temporal"] / (apps * app_events), 3),
        "engine_floor_cpu_ms_per_application": round(per_event_ms * app_events, 1),
    }


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, env=os.environ | env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def dump_logs(directory: Path) -> None:
    for log in sorted(directory.glob("*.log")):
        print(f"== {log.name}", log.read_text()[-3000:], sep="\n", file=sys.stderr)


async def main(
    rate: float,
    seconds: float,
    burst_size: int,
    walk: bool,
    workers: int,
    poll: bool = False,
    profile: Path | None = None,
) -> None:
    lendflow = str(Path(sys.executable).parent / "lendflow")
    with bench_database() as url, tempfile.TemporaryDirectory(prefix="lendflow-bench-") as tmp:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_cli_path(),
            data_converter=data_converter(Settings()),  # encrypted, as the platform's own payloads are
            search_attributes=visibility.ALL,
            dev_server_log_level="error",
        )
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        target = env.client.service_client.config.target_host
        config = {
            "DATABASE_URL": url,
            "TEMPORAL_ADDRESS": target,
            "LENDFLOW_ENV": "dev",
            "LENDFLOW_DATA_DIR": tmp,
            "LENDFLOW_PUBLIC_BASE_URL": base_url,
            "LENDFLOW_LOG_LEVEL": "WARNING",
            "LENDFLOW_FAKE_BUREAU_LATENCY_MS": str(BUREAU_MS),
            "LENDFLOW_FAKE_SCORING_LATENCY_MS": str(SCORING_MS),
            "LENDFLOW_FAKE_PAYMENTS_LATENCY_MS": str(PAYMENTS_MS),
            "LENDFLOW_FAKE_SMS_LATENCY_MS": "100",
        }
        processes = [
            spawn([lendflow, "migrate"], config, Path(tmp) / "migrate.log"),
        ]
        processes[0].wait()
        processes = [
            spawn([lendflow, "api", "--port", str(port)], config, Path(tmp) / "api.log"),
            *(spawn([lendflow, "worker"], config, Path(tmp) / f"worker-{n}.log") for n in range(workers)),
            *(
                spawn(
                    [sys.executable, str(Path(__file__).parent / "baseline_worker.py"), target, "bench-baseline"],
                    config,
                    Path(tmp) / f"baseline-{n}.log",
                )
                for n in range(workers)
            ),
        ]
        server_port = url.rsplit(":", 1)[1].split("/", 1)[0]
        cpu = ProcessCpu(
            {
                "api": [processes[0].pid],
                "workers": [p.pid for p in processes[1 : 1 + workers]],
                "postgres": find_pids("-D", f"-p {server_port} "),
                "temporal": find_pids("start-dev", target.rsplit(":", 1)[1]),
                "load": [os.getpid()],  # this process alone: the borrowers' apps (not the platform)
                "baseline": [p.pid for p in processes[1 + workers :]],
            },
            alone=frozenset({"load"}),
        )
        try:
            wait_for_port(port, 60)
            settings = Settings(env="dev", database_url=url, temporal_address=target, data_dir=Path(tmp))
            bench = Bench(settings, env.client, base_url, poll)
            async with bench.http() as http:
                admin = (
                    await http.post(
                        "/v1/staff/token", json={"email": settings.admin_email, "password": settings.admin_password}
                    )
                ).json()
            product_id = await bench.product(admin["access_token"])

            count = int(rate * seconds)  # the baselines first, on an idle stack
            noop_before = cpu.seconds()
            noop, noop_ids = await baseline(env.client, "bench-baseline", [0.0, 0.0], rate, count)
            noop_cpu = {name: spent - noop_before[name] for name, spent in cpu.seconds().items()}
            noop_events = await events_per_workflow(env.client, noop_ids[:: max(1, count // 20)])
            shaped, _ = await baseline(env.client, "bench-baseline", [BUREAU_MS / 1000, SCORING_MS / 1000], rate, count)
            async with bench.http() as http:
                requests_before = await requests_answered(http)
            transactions_before = await database_transactions(bench)
            cpu_before = cpu.seconds()
            spies = (
                profiles.record(
                    {
                        "api": processes[0].pid,
                        **{f"worker-{n}": p.pid for n, p in enumerate(processes[1 : 1 + workers])},
                    },
                    int(seconds),
                    profile,
                )
                if profile
                else []
            )
            steady_ids, steady_s, arrival_rate = await steady(bench, product_id, rate, seconds, walk)
            for spy in spies:
                spy.wait()
            cpu_used = {name: spent - cpu_before[name] for name, spent in cpu.seconds().items()}
            transactions = await database_transactions(bench) - transactions_before
            async with bench.http() as http:
                requests = await requests_answered(http) - requests_before
            shape = await history_shape(env.client, steady_ids[:: max(1, len(steady_ids) // 20)])
            decided, disbursed, taken = await bench.timings(steady_ids)
            await asyncio.sleep(5)  # let the steady phase's messages and postbacks finish
            burst_ids = await burst(bench, product_id, burst_size)
            burst_decided, _, _ = await bench.timings(burst_ids)
            lags = {
                **{f"steady_{k}": v for k, v in (await bench.step_lags(steady_ids)).items()},
                **{f"burst_{k}": v for k, v in (await bench.step_lags(burst_ids)).items()},
            }
            await bench.engine.dispose()
        except BaseException:
            dump_logs(Path(tmp))
            raise
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
            await env.shutdown()

    figures = {
        "worker_processes": workers,
        "applications": len(steady_ids),
        "rate_per_s": rate,
        "arrival_rate_per_s": round(arrival_rate, 2),
        "steady_phase_s": round(steady_s, 1),
        "api_wait_p50_s": round(statistics.median(taken), 3),
        "api_wait_p95_s": round(percentile(taken, 0.95), 3),
        "decision_p50_s": round(statistics.median(decided), 3),
        "decision_p95_s": round(percentile(decided, 0.95), 3),
        "disbursed_p50_s": round(statistics.median(disbursed), 3) if disbursed else None,
        "disbursed_p95_s": round(percentile(disbursed, 0.95), 3) if disbursed else None,
        "disbursed": len(disbursed),
        "burst": len(burst_ids),
        "burst_decision_p50_s": round(statistics.median(burst_decided), 3),
        "burst_decision_p95_s": round(percentile(burst_decided, 0.95), 3),
        "baseline_noop_p95_s": round(percentile(noop, 0.95), 3),
        "baseline_latency_matched_p95_s": round(percentile(shaped, 0.95), 3),
        **lags,
        **{
            f"cpu_ms_per_application_{name}": round(1000 * spent / len(steady_ids), 1)
            for name, spent in cpu_used.items()
            if name != "baseline"
        },
        "cpu_ms_per_application": round(
            1000 * sum(spent for name, spent in cpu_used.items() if name not in ("load", "baseline")) / len(steady_ids),
            1,
        ),
        "http_requests_per_application": round(requests / len(steady_ids), 1),
        "db_transactions_per_application": round(transactions / len(steady_ids), 1),
        **shape,
        **engine_figures(
            noop_cpu, noop_ids, noop_events, len(steady_ids), cpu_used, shape["history_events_per_application"]
        ),
    }
    figures["decision_vs_baseline"] = round(figures["decision_p95_s"] / figures["baseline_latency_matched_p95_s"], 2)
    figures["decision_vs_noop_baseline"] = round(figures["decision_p95_s"] / figures["baseline_noop_p95_s"], 2)
    print(f"{'figure':<34}{'value':>12}")
    for name, value in figures.items():
        print(f"{name:<34}{value!s:>12}")
    print("targets: decision_p95_s < 5; decision_vs_baseline <= 2 (p95 against the latency-matched empty workflows)")
    if profile:
        print("\n".join(await asyncio.to_thread(profiles.summaries, profile)))
    print(json.dumps(figures))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="worker processes, for the platform and for the baseline alike (default 2, one per core)",
    )
    parser.add_argument(
        "--decisions-only",
        action="store_true",
        help="borrowers do not walk on after the decision (isolates the decision path's load)",
    )
    parser.add_argument(
        "--poll",
        action="store_true",
        help="borrowers poll their application every second instead of following its event stream",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample the API and the workers with py-spy during the steady phase; collapsed stacks into DIR and a"
        " summary of where the time went printed",
    )
    args = parser.parse_args()
    asyncio.run(
        main(args.rate, args.seconds, args.burst, not args.decisions_only, args.workers, args.poll, args.profile)
    )
