"""`lendflow dev` as a person runs it: it comes up on its own ports, sign-in works over real HTTP, Ctrl-C leaves no
process behind, and the next start finds the data the last one left."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt
import psutil
import pytest

from workers.devstack.ports import free_port

pytestmark = pytest.mark.slow
PHONE = "+447700900400"


@contextmanager
def dev_stack(data_dir: Path) -> Iterator[tuple[str, list[psutil.Process]]]:
    api_port = free_port()
    command = [
        sys.executable, "-m", "workers.cli", "dev", "--data-dir", str(data_dir), "--api-port", str(api_port),
        "--temporal-port", str(free_port()), "--temporal-ui-port", str(free_port()),
        "--embedded-postgres-port", str(free_port()),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{api_port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the dev stack never became ready"
            time.sleep(0.5)
        started = psutil.Process(process.pid).children(recursive=True)
        yield base, started
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def sign_in(base: str) -> str:
    with httpx.Client(base_url=base, timeout=10) as http:
        before = len(http.get("/v1/dev/outbox", params={"to": PHONE}).json()["data"])
        assert http.post("/v1/auth/otp", json={"phone": PHONE}).status_code == 202
        deadline = time.monotonic() + 20
        while len(messages := http.get("/v1/dev/outbox", params={"to": PHONE}).json()["data"]) <= before:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        code = re.search(r"\b(\d{6})\b", messages[0]["body"])
        assert code
        token = http.post("/v1/auth/token", json={"phone": PHONE, "code": code.group(1)})
        assert token.status_code == 200, token.text
        subject: str = jwt.decode(token.json()["access_token"], options={"verify_signature": False})["sub"]
        return subject


def test_the_dev_stack_runs_signs_in_stops_cleanly_and_keeps_its_data(tmp_path: Path) -> None:
    data_dir = tmp_path / ".lendflow"
    with dev_stack(data_dir) as (base, started):
        first_user = sign_in(base)
        names = {p.name() for p in started}
    assert {"postgres", "temporal"} <= names
    assert len(started) >= 4  # postgres (and its backends), temporal, the worker, the API
    left = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert left == [], f"still running after Ctrl-C: {left}"

    with dev_stack(data_dir) as (base, _):
        assert sign_in(base) == first_user  # the same database, found again
