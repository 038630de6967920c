"""The operator's commands, run as an operator runs them (the `lendflow` command in its own process, against the
test session's database and Temporal): close of business with a progress bar, finding a customer's processes by
search attribute and cancelling one, staff accounts added, disabled and their second factor reset, each audited."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import timedelta

import httpx
import jwt
import pytest
from sqlalchemy import text

from tests.conftest import Stack
from tests.helpers import admin_token, bearer, staff_token
from tests.origination_steps import offered
from tests.servicing_steps import open_date
from workers.operator_commands import bar, query_for

pytestmark = pytest.mark.slow


async def lendflow(stack: Stack, *args: str, stdin: str = "", extra: dict[str, str] | None = None) -> tuple[int, str]:
    settings = stack.settings
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LENDFLOW_")},
        "DATABASE_URL": settings.database_url or "",
        "TEMPORAL_ADDRESS": stack.temporal.service_client.config.target_host,
        "LENDFLOW_ENV": "dev",
        "LENDFLOW_PII_KEY": settings.pii_key,
        "LENDFLOW_TASK_QUEUE_PREFIX": settings.task_queue_prefix,
        **(extra or {}),
    }

    def run() -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "workers.cli", *args],
            env=env,
            input=stdin.encode(),
            capture_output=True,
            timeout=120,
        )
        return done.returncode, (done.stdout + done.stderr).decode()

    return await asyncio.to_thread(run)


def test_queries_and_the_progress_bar_read_as_an_operator_expects() -> None:
    assert query_for("abc-1", None, "offered", None, True) == (
        'LendflowCustomerId="abc-1" AND LendflowApplicationStatus="offered" AND ExecutionStatus="Running"'
    )
    with pytest.raises(SystemExit):
        query_for('x" OR 1=1', None, None, None, False)  # no query can be smuggled in
    with pytest.raises(SystemExit):
        query_for(None, None, None, None, False)
    assert bar(3, 10, None, 0, 0, width=10) == "[###.......] 3/10 dates"


async def test_an_operator_finds_a_customers_processes_and_cancels_one(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    token, app_id, _ = await offered(http, admin, "+447700969001")
    user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    listed = ""
    for _ in range(50):
        code, listed = await lendflow(clean, "processes", "--customer", user_id, "--running")
        if f"loan-application-{app_id}" in listed:
            break
        await asyncio.sleep(0.3)
    assert code == 0 and f"loan-application-{app_id}\tLoanApplication\tRUNNING" in listed, listed
    refused, said = await lendflow(clean, "processes", "--cancel", f"loan-application-{app_id}")
    assert refused != 0 and "--reason" in said
    code, said = await lendflow(
        clean, "processes", "--cancel", f"loan-application-{app_id}", "--reason", "customer asked by phone"
    )
    assert code == 0, said
    for _ in range(100):
        status = (await http.get(f"/v1/applications/{app_id}", headers=bearer(token))).json()["status"]
        if status == "cancelled":
            break
        await asyncio.sleep(0.1)
    assert status == "cancelled"
    async with clean.sessions() as s:
        audited = (await s.execute(text("SELECT details FROM audit_log WHERE action = 'process.cancelled'"))).scalar()
    assert audited["reason"] == "customer asked by phone" and audited["via"] == "cli"


async def test_staff_accounts_from_the_shell(http: httpx.AsyncClient, clean: Stack) -> None:
    password = "a-long-staff-password"
    code, said = await lendflow(
        clean,
        "staff",
        "add",
        "ops@lendflow.dev",
        "--role",
        "collector",
        extra={"LENDFLOW_NEW_STAFF_PASSWORD": password},
    )
    assert code == 0, said
    assert await staff_token(http, "ops@lendflow.dev", password)
    code, said = await lendflow(clean, "staff", "disable", "ops@lendflow.dev")
    assert code == 0, said
    refused = await http.post("/v1/staff/token", json={"email": "ops@lendflow.dev", "password": password})
    assert refused.status_code == 401
    code, said = await lendflow(clean, "staff", "reset-2fa", "nobody@lendflow.dev")
    assert code != 0 and "no staff account" in said
    async with clean.sessions() as s:
        actions = (
            (await s.execute(text("SELECT action FROM audit_log WHERE actor_label LIKE 'cli:%' ORDER BY id")))
            .scalars()
            .all()
        )
    assert actions == ["staff.member_added", "staff.member_changed"]


async def test_close_of_business_from_the_shell_with_its_progress(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    start = await open_date(http, admin)
    until = start + timedelta(days=2)
    code, said = await lendflow(clean, "cob", "--until", until.isoformat())
    assert code == 0, said
    final = re.findall(r"\[#+\] (\d+)/(\d+) dates", said)
    assert final and final[-1][0] == final[-1][1], said  # the bar ends with every date of the run closed
    calendar = (await http.get("/v1/staff/cob", headers=bearer(admin))).json()
    assert calendar["last_closed"] == until.isoformat()
