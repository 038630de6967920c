"""`lendflow dev`: the whole platform on one machine, and every process it started stopped on Ctrl-C.

Order matters: PostgreSQL and Temporal first, then migrations and seed data, then the worker and the API as child
processes of their own (exactly the commands production runs). Stopping goes in reverse.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from config import Settings
from store.db import make_engine, make_session_factory
from store.migrate import upgrade
from workers.demo_data import ensure_demo_data
from workers.devstack.ports import wait_for_port
from workers.devstack.postgres import EmbeddedPostgres
from workers.devstack.temporal import TemporalDevServer
from workers.seed import ensure_first_admin

DATABASE_NAME = "lendflow"


@dataclass
class DevOptions:
    reset: bool = False


class DevStack:
    def __init__(self, settings: Settings, options: DevOptions) -> None:
        self.settings = settings
        self.options = options
        self.data_dir = settings.data_dir.resolve()
        self.postgres: EmbeddedPostgres | None = None
        self.temporal: TemporalDevServer | None = None
        self.children: list[subprocess.Popen[bytes]] = []
        self.demo: list[str] = []

    def run(self) -> int:
        stop_requested = False

        def request_stop(signum: int, _frame: object) -> None:
            nonlocal stop_requested
            stop_requested = True

        signal.signal(signal.SIGTERM, request_stop)
        try:
            env = self.start()
            self.announce(env)
            while not stop_requested:
                for child in self.children:
                    if child.poll() is not None:
                        print(f"lendflow: {child.args[3]} exited with {child.returncode}; stopping", flush=True)
                        return 1
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            print("\nlendflow: stopping…", flush=True)
            self.stop()
        return 0

    def start(self) -> dict[str, str]:
        if self.options.reset and self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        database_url = self.settings.database_url
        if database_url is None:
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres", self.settings.embedded_postgres_port)
            self.postgres.start()
            database_url = self.postgres.ensure_database(DATABASE_NAME)
        temporal_address = self.settings.temporal_address
        if temporal_address is None:
            self.temporal = TemporalDevServer(
                self.data_dir / "temporal.db",
                self.settings.temporal_port,
                self.settings.temporal_ui_port,
                self.settings.temporal_namespace,
            )
            self.temporal.start()
            temporal_address = self.temporal.address
        upgrade(database_url)
        settings = self.settings.model_copy(update={"database_url": database_url})
        asyncio.run(self._seed(settings))
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": temporal_address,
            "LENDFLOW_ENV": self.settings.env,
            "LENDFLOW_API_PORT": str(self.settings.api_port),
            "LENDFLOW_PUBLIC_BASE_URL": self.settings.public_base_url,
        }
        for command in ("worker", "api"):
            self.children.append(
                subprocess.Popen([sys.executable, "-m", "workers.cli", command], env=env, start_new_session=True)
            )
        wait_for_port(self.settings.api_port, 60, self.settings.api_host)
        return env

    async def _seed(self, settings: Settings) -> None:
        assert settings.database_url is not None
        engine = make_engine(settings.database_url, pool_size=1)
        try:
            sessions = make_session_factory(engine)
            await ensure_first_admin(sessions, settings)
            self.demo = await ensure_demo_data(sessions)
        finally:
            await engine.dispose()

    def announce(self, env: dict[str, str]) -> None:
        base = f"http://{self.settings.api_host}:{self.settings.api_port}"
        lines = [
            "",
            "lendflow is running",
            f"  API            {base}   (docs {base}/docs, health {base}/readyz)",
            f"  Temporal       {env['TEMPORAL_ADDRESS']}"
            + (f"   (web UI http://127.0.0.1:{self.settings.temporal_ui_port})" if self.temporal else ""),
            f"  PostgreSQL     {env['DATABASE_URL']}",
            f"  Data           {self.data_dir}",
            f"  Admin sign-in  {self.settings.admin_email} / {self.settings.admin_password}",
            f"  SMS outbox     {base}/v1/dev/outbox",
            *(f"  Demo data      {item}" for item in self.demo),
            "Ctrl-C stops everything.",
            "",
        ]
        print("\n".join(lines), flush=True)

    def stop(self) -> None:
        for child in reversed(self.children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in reversed(self.children):
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self.temporal is not None:
            self.temporal.stop()
        if self.postgres is not None:
            self.postgres.stop()
