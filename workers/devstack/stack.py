"""`lendflow dev`: the whole platform on one machine, and every process it started stopped on Ctrl-C.

Order matters: PostgreSQL and Temporal first, then migrations and seed data, then the worker and the API as child
processes of their own (exactly the commands production runs). Stopping goes in reverse.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
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


# Secrets a provider's fake signs with: generated per data folder in development (production sets its own).
DEV_SECRET_NAMES = ("LENDFLOW_STRIPE_WEBHOOK_SECRET", "LENDFLOW_TWILIO_AUTH_TOKEN", "LENDFLOW_CREDIT_WEBHOOK_SECRET")


class Supervisor:
    """Keeps the API and worker processes running, as a process manager would: a child that dies is started again
    after a backoff that doubles with each quick death (1 s up to 30 s) and resets once it has stayed up a minute;
    every restart is logged."""

    def __init__(self, children: list[subprocess.Popen[bytes]], spawn: Callable[[str], subprocess.Popen[bytes]]):
        self.children, self.spawn = children, spawn
        self.backoff: dict[str, float] = {}
        self.started: dict[str, float] = {}
        self.due: dict[str, float] = {}

    def check(self, now: float) -> None:
        for index, child in enumerate(self.children):
            command = str(child.args[3])  # type: ignore[index]
            self.started.setdefault(command, now)
            if child.poll() is None:
                if now - self.started[command] > 60:
                    self.backoff[command] = 1.0
                continue
            if command not in self.due:
                wait = self.backoff.get(command, 1.0)
                self.due[command] = now + wait
                self.backoff[command] = min(30.0, wait * 2)
                print(f"lendflow: {command} exited with {child.returncode}; restarting in {wait:.0f} s", flush=True)
            if now >= self.due[command]:
                del self.due[command]
                self.children[index] = self.spawn(command)
                self.started[command] = now
                print(f"lendflow: {command} restarted (pid {self.children[index].pid})", flush=True)


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
        self.demo_process: subprocess.Popen[bytes] | None = None

    def run(self) -> int:
        stop_requested = False

        def request_stop(signum: int, _frame: object) -> None:
            nonlocal stop_requested
            stop_requested = True

        signal.signal(signal.SIGTERM, request_stop)
        try:
            env = self.start()
            self.announce(env)
            supervisor = Supervisor(self.children, lambda command: self._spawn(command, env))
            while not stop_requested:
                supervisor.check(time.monotonic())
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            print("\nlendflow: stopping…", flush=True)
            self.stop()
        return 0

    def _spawn(self, command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "workers.cli", command], env=env, start_new_session=True)

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
            "LENDFLOW_DATA_DIR": str(self.data_dir),
            **self._dev_secrets(),
        }
        if self.settings.demo_activity and "LENDFLOW_OTP_MAX_PER_ADDRESS" not in os.environ:
            # The demo's hundreds of borrowers sign in from this machine's one address, which the per-address
            # code limit (20 in 10 minutes) would stop after a few; the per-phone limit stays as configured.
            env["LENDFLOW_OTP_MAX_PER_ADDRESS"] = "100000"
        for command in ("worker", "api"):
            self.children.append(self._spawn(command, env))
        wait_for_port(self.settings.api_port, 60, self.settings.api_host)
        self._start_demo_activity(env)
        return env

    def _start_demo_activity(self, env: dict[str, str]) -> None:
        """A fresh data folder gets demo borrowers and partners once, made through the API in the background (a
        one-off process beside the supervised ones; `demo-activity.done` marks it)."""
        done = self.data_dir / "demo-activity.done"
        if not self.settings.demo_activity or done.exists():
            return
        command = [
            sys.executable,
            "-m",
            "workers.cli",
            "demo-activity",
            "--base-url",
            f"http://127.0.0.1:{self.settings.api_port}",
        ]
        self.demo_process = subprocess.Popen([*command, "--done-file", str(done)], env=env, start_new_session=True)
        self.demo.append("demo borrowers and partners are being made in the background (a few minutes)")

    def _dev_secrets(self) -> dict[str, str]:
        """Webhook secrets of this data folder's own (made once, kept in it), unless configured: a second stack
        on the machine, or anyone who read the code, cannot sign callbacks this one accepts."""
        path = self.data_dir / "dev-secrets.json"
        if not path.exists():
            made = {name: secrets.token_urlsafe(32) for name in DEV_SECRET_NAMES}
            path.write_text(json.dumps(made))
            path.chmod(0o600)
        stored: dict[str, str] = json.loads(path.read_text())
        return {name: value for name, value in stored.items() if name not in os.environ}

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
            f"  Staff console  {base}/console",
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
        if self.demo_process is not None and self.demo_process.poll() is None:
            self.demo_process.kill()
            self.demo_process.wait()
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
