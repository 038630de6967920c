"""The `lendflow` command: `dev` (everything, on one machine), `api`, `worker`, `migrate`, `temporal-setup`, and
the operator's commands (`cob`, `processes`, `staff`: workers/operator_commands.py)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

from config import Settings, load_settings
from workers.operator_commands import add_parsers as add_operator_commands


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    from workers.devstack.stack import DevOptions, DevStack

    overrides: dict[str, object] = {}
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
    for name in ("api_port", "temporal_port", "temporal_ui_port", "embedded_postgres_port"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    settings = settings.model_copy(update=overrides)
    if "LENDFLOW_PUBLIC_BASE_URL" not in os.environ:
        # The providers' fakes call back to the port the API really listens on, whether it came from --api-port or
        # LENDFLOW_API_PORT: a callback to another stack's port would be taken by the wrong platform.
        settings = settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{settings.api_port}"})
    return DevStack(settings, DevOptions(reset=args.reset)).run()


def _api(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from api.request_context import configure_logging
    from web.app import create_app
    from workers.tracing import configure_tracing, instrument_app

    configure_logging(settings.log_level, settings.logs_as_json)
    traced = configure_tracing(settings, "api")
    app = create_app(settings)
    if traced is not None:
        instrument_app(app, traced)
    uvicorn.run(
        app,
        host=args.host or settings.api_host,
        port=args.port or settings.api_port,
        log_config=None,
        proxy_headers=True,
    )
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from api.request_context import configure_logging
    from workers.tracing import configure_tracing
    from workers.worker_process import serve_workers

    configure_logging(settings.log_level, settings.logs_as_json)
    tracing = configure_tracing(settings, "worker")
    if args.task_queue:
        settings = settings.model_copy(update={"task_queues": args.task_queue})
    with asyncio.Runner(loop_factory=_event_loop_factory(settings)) as runner:
        runner.run(serve_workers(settings))
    if tracing is not None:
        tracing.shutdown()  # the last spans exported before the process leaves (by os._exit, below)
    return 0


def _event_loop_factory(settings: Settings) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop, unless set otherwise: activities, pollers and the fakes' callbacks all turn on the loop, and the
    standard library's loop was about a sixth of a worker's CPU under origination load (docs/origination.md)."""
    if settings.worker_event_loop == "asyncio":
        return None
    import uvloop

    return uvloop.new_event_loop


def _healthcheck(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when the process of the role on this host is healthy: the API answers /healthz, a worker's alive
    file is fresh. What container health checks and Kubernetes probes run."""
    import time
    import urllib.request

    if args.role == "api":
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{settings.api_port}/healthz", timeout=3) as answer:
                return 0 if answer.status == 200 else 1
        except OSError as err:
            print(f"api: {err}", file=sys.stderr)
            return 1
    try:
        age = time.time() - settings.worker_health_file.stat().st_mtime
    except OSError:
        print(f"worker: {settings.worker_health_file} not written yet", file=sys.stderr)
        return 1
    if age > args.max_age:
        print(f"worker: last alive {age:.0f} s ago", file=sys.stderr)
        return 1
    return 0


def _temporal_setup(args: argparse.Namespace, settings: Settings) -> int:
    from temporalio.service import RPCError, RPCStatusCode

    from contracts import visibility
    from workers.temporal_setup import ensure_namespace, ensure_search_attributes
    from workflows.client import connect_configured

    async def run() -> list[str]:
        client = await connect_configured(settings)
        if await ensure_namespace(client, settings.temporal_namespace, settings.temporal_retention_days):
            print(f"namespace {settings.temporal_namespace} registered", flush=True)
        for attempt in range(60):  # a namespace just registered takes a few seconds to reach every service
            try:
                return await ensure_search_attributes(client, settings.temporal_namespace)
            except RPCError as err:
                if err.status != RPCStatusCode.NOT_FOUND or attempt == 59:
                    raise
                await asyncio.sleep(1)
        return []

    added = asyncio.run(run())
    for key in visibility.ALL:
        state = "added" if key.name in added else "present"
        print(f"{key.name}\tKeyword\t{state}")
    return 0


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from store.db import make_engine, make_session_factory
    from store.migrate import upgrade
    from workers.seed import ensure_first_admin

    if settings.database_url is None:
        print("DATABASE_URL is not set", file=sys.stderr)
        return 2
    upgrade(settings.database_url, args.revision)

    async def seed() -> bool:
        assert settings.database_url is not None
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            return await ensure_first_admin(make_session_factory(engine), settings)
        finally:
            await engine.dispose()

    if asyncio.run(seed()):
        print(f"created the first admin: {settings.admin_email}")
    print(f"database migrated to {args.revision}")
    return 0


def _demo_activity(args: argparse.Namespace, settings: Settings) -> int:
    from workers.demo_activity import generate

    base = args.base_url or f"http://127.0.0.1:{settings.api_port}"
    made = asyncio.run(generate(base, settings.admin_email, settings.admin_password, args.borrowers, args.days))
    print("lendflow: demo activity " + ", ".join(f"{k} {v}" for k, v in made.items()), flush=True)
    if args.done_file:
        Path(args.done_file).write_text(json.dumps(made))
    return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lendflow")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lendflow", description=__doc__)
    parser.add_argument("--version", action="version", version=f"lendflow {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser(
        "dev",
        help="run the whole platform locally (embedded PostgreSQL, Temporal dev server, worker, API)",
        description="Starts PostgreSQL (unless DATABASE_URL is set) and the Temporal dev server (unless "
        "TEMPORAL_ADDRESS is set) with data under .lendflow/, migrates, seeds the first admin, then runs the "
        "worker and the API. Ctrl-C stops every process it started.",
    )
    dev.add_argument("--reset", action="store_true", help="delete the local data and start from empty")
    dev.add_argument("--data-dir", help="where local data lives (default .lendflow)")
    dev.add_argument("--api-port", type=int, help="API port (default 8000)")
    dev.add_argument("--temporal-port", type=int, help="Temporal gRPC port (default 7233)")
    dev.add_argument("--temporal-ui-port", type=int, help="Temporal web UI port (default 8233)")
    dev.add_argument("--embedded-postgres-port", type=int, help="embedded PostgreSQL port (default 54329)")
    dev.set_defaults(handler=_dev)

    api = commands.add_parser(
        "api",
        help="serve the HTTP API",
        description="Serves the HTTP API with uvicorn. "
        "Needs DATABASE_URL and TEMPORAL_ADDRESS (production) or runs under `lendflow dev`.",
    )
    api.add_argument("--host", help="bind address (default LENDFLOW_API_HOST)")
    api.add_argument("--port", type=int, help="port (default LENDFLOW_API_PORT)")
    api.set_defaults(handler=_api)

    worker = commands.add_parser(
        "worker",
        help="run Temporal workers",
        description="Polls the task queues named in LENDFLOW_TASK_QUEUES and runs "
        "workflows and activities until SIGTERM.",
    )
    worker.add_argument(
        "--task-queue",
        action="append",
        help="a family (origination, servicing, collections, commissions, messaging, payments, bulk) or a queue name to"
        " poll; repeatable; default: every family's queue (LENDFLOW_TASK_QUEUES)",
    )
    worker.set_defaults(handler=_worker)

    demo = commands.add_parser(
        "demo-activity",
        help="walk demo borrowers and partners through a running platform (dev only)",
        description="Signs demo borrowers in, applies, signs, pays out, repays some, closes business dates and "
        "feeds an affiliate network, all through the HTTP API of a running `lendflow dev`.",
    )
    demo.add_argument("--base-url", help="the API (default http://127.0.0.1:LENDFLOW_API_PORT)")
    demo.add_argument("--borrowers", type=int, default=200)
    demo.add_argument("--days", type=int, default=40, help="business dates to close after the loans are made")
    demo.add_argument("--done-file", help="write the summary here when done")
    demo.set_defaults(handler=_demo_activity)

    add_operator_commands(commands)

    setup = commands.add_parser(
        "temporal-setup",
        help="register the namespace and lendflow's search attributes (self-hosted Temporal clusters)",
        description="Registers LENDFLOW_TEMPORAL_NAMESPACE when the cluster does not have it (retention "
        "LENDFLOW_TEMPORAL_RETENTION_DAYS), then adds the search attributes operators find processes by (LendflowCustomerId, "
        "LendflowApplicationStatus, LendflowLoanId, LendflowProduct, LendflowProject; all Keyword) to "
        "LENDFLOW_TEMPORAL_NAMESPACE if missing. Run once per namespace before the first deploy that uses them.",
    )
    setup.set_defaults(handler=_temporal_setup)

    health = commands.add_parser(
        "healthcheck",
        help="exit 0 when this host's api or worker process is healthy (for container health checks and probes)",
        description="api: GET /healthz on LENDFLOW_API_PORT answers 200. worker: the file a running worker "
        "touches every 10 s (LENDFLOW_WORKER_HEALTH_FILE) is younger than --max-age. Changes nothing.",
    )
    health.add_argument("role", choices=("api", "worker"))
    health.add_argument("--max-age", type=float, default=60.0, help="worker: seconds the alive file may be old")
    health.set_defaults(handler=_healthcheck)

    migrate = commands.add_parser(
        "migrate",
        help="apply database migrations and create the first admin",
        description="Applies Alembic migrations to DATABASE_URL, then creates the "
        "admin from LENDFLOW_ADMIN_EMAIL/LENDFLOW_ADMIN_PASSWORD if none exists.",
    )
    migrate.add_argument("--revision", default="head", help="target revision (default head)")
    migrate.set_defaults(handler=_migrate)
    return parser


# Commands that talk to Temporal and then end the process: the SDK's runtime threads may still be winding down while
# the interpreter finalizes, which can abort an otherwise finished command (seen as "PyGILState_Release ...
# finalizing" and exit status -6). They leave through `os._exit` once their output is flushed. The worker is one of
# them: after its graceful shutdown (running activities finished and recorded) it was seen to abort the same way.
SHORT_LIVED_TEMPORAL_COMMANDS = {"cob", "processes", "temporal-setup", "recalculation", "worker"}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings()
    code = int(args.handler(args, settings))
    if args.command in SHORT_LIVED_TEMPORAL_COMMANDS and argv is None:
        import logging

        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
