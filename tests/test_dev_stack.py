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
        sys.executable,
        "-m",
        "workers.cli",
        "dev",
        "--data-dir",
        str(data_dir),
        "--api-port",
        str(api_port),
        "--temporal-port",
        str(free_port()),
        "--temporal-ui-port",
        str(free_port()),
        "--embedded-postgres-port",
        str(free_port()),
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
    env["LENDFLOW_DEMO_ACTIVITY"] = "false"  # tests/test_demo_activity.py walks the demo on its own
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


def sign_in(base: str, phone: str = PHONE) -> str:
    """The signed-in user's id."""
    subject: str = jwt.decode(_token(base, phone), options={"verify_signature": False})["sub"]
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


def _token(base: str, phone: str) -> str:
    """Signs in by the code the fake SMS provider "sent" (the newest, once it has arrived)."""
    with httpx.Client(base_url=base, timeout=10) as http:
        before = len(http.get("/v1/dev/outbox", params={"to": phone}).json()["data"])
        assert http.post("/v1/auth/otp", json={"phone": phone}).status_code == 202
        deadline = time.monotonic() + 20
        while len(messages := http.get("/v1/dev/outbox", params={"to": phone}).json()["data"]) <= before:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        code = re.search(r"\b(\d{6})\b", messages[0]["body"])
        assert code
        answer = http.post("/v1/auth/token", json={"phone": phone, "code": code.group(1)})
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token


def _api_process(started: list[psutil.Process]) -> psutil.Process:
    return next(p for p in started if p.is_running() and "api" in p.cmdline()[-1:])


def test_a_killed_api_is_restarted_and_every_retried_transfer_answers_its_first_result(tmp_path: Path) -> None:
    """50 idempotent transfers in flight when the API process is killed (SIGKILL): the dev supervisor starts it
    again, each key retried until it answers gets its original transfer (never a 500), and the money is exact."""
    with dev_stack(tmp_path / ".lendflow") as (base, started):
        with httpx.Client(base_url=base, timeout=30) as http:
            admin = http.post("/v1/staff/token", json={"email": "admin@lendflow.dev", "password": "lendflow-admin"})
            admin_headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
            headers = {"Authorization": f"Bearer {_token(base, PHONE)}"}
            wallets = {
                c: http.post("/v1/wallets", headers=headers, json={"type": "main", "currency": c}).json()["id"]
                for c in ("USD", "EUR")
            }
            funded = http.post(
                "/v1/staff/bonus-credits",
                headers=admin_headers,
                json={
                    "currency": "USD",
                    "reason": "test funds",
                    "credits": [{"wallet_id": wallets["USD"], "amount": 500_000}],
                },
            )
            assert funded.status_code == 201, funded.text
        body = {
            "from_wallet": wallets["USD"],
            "to_wallet": wallets["EUR"],
            "amount": {"amount": 1_000, "currency": "USD"},
        }
        api = _api_process(started)
        supervisor = psutil.Process(api.ppid())
        answers: dict[str, list[tuple[int, str]]] = {}

        def transfer(key: str) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    try:
                        answer = client.post("/v1/transfers", json=body, headers={**headers, "Idempotency-Key": key})
                    except httpx.HTTPError:
                        time.sleep(0.5)  # the API is down: retry, as a client would
                        continue
                    answers.setdefault(key, []).append((answer.status_code, answer.text))
                    if answer.status_code == 201:
                        return
                    time.sleep(0.5)

        from concurrent.futures import ThreadPoolExecutor

        keys = [f"killed-api-{n}" for n in range(50)]
        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = [pool.submit(transfer, key) for key in keys]
            time.sleep(0.5)
            api.send_signal(signal.SIGKILL)  # mid-flight
            for future in futures:
                future.result()
        assert all(status < 500 for tries in answers.values() for status, _ in tries), answers
        first = {key: tries[-1] for key, tries in answers.items()}
        assert all(status == 201 for status, _ in first.values()), first
        with httpx.Client(base_url=base, timeout=30) as http:
            ids = set()
            for key in keys:  # the same key again answers the same transfer
                again = http.post("/v1/transfers", json=body, headers={**headers, "Idempotency-Key": key})
                assert again.status_code == 201 and again.json() == httpx.Response(201, text=first[key][1]).json()
                ids.add(again.json()["id"])
            assert len(ids) == 50
            balances = {
                w["currency"]: w["balance"]["amount"] for w in http.get("/v1/wallets", headers=headers).json()["data"]
            }
        debited = sum(httpx.Response(201, text=text).json()["debited"]["amount"] for _, text in first.values())
        assert balances["USD"] == 500_000 - debited
        assert _api_process(supervisor.children()).pid != api.pid  # a new API process, started by the supervisor
