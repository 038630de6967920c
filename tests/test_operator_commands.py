"""The operator's commands, run as an operator runs them (the `lendflow` command in its own process, against the
test session's database and Temporal): close of business with a progress bar, finding a customer's processes by
search attribute and cancelling one, staff accounts added, disabled and their second factor reset, each audited."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from sqlalchemy import text

from contracts import visibility
from tests.affiliate_steps import deposit, partner_line
from tests.conftest import Stack
from tests.helpers import admin_token, bearer, staff_token
from tests.origination_steps import offered
from tests.servicing_steps import open_date
from tests.test_commissions import until
from tests.test_payout_worker_killed import worker_process
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


async def test_temporal_setup_registers_a_namespace_once_and_a_worker_reports_itself_alive(
    clean: Stack, tmp_path: Path
) -> None:
    namespace = {"LENDFLOW_TEMPORAL_NAMESPACE": f"ops-{uuid.uuid4().hex[:8]}"}
    code, out = await lendflow(clean, "temporal-setup", extra=namespace)
    assert code == 0 and "registered" in out and out.count("\tadded") == len(visibility.ALL), out
    code, out = await lendflow(clean, "temporal-setup", extra=namespace)
    assert code == 0 and "registered" not in out and out.count("\tpresent") == len(visibility.ALL), out

    alive = {"LENDFLOW_WORKER_HEALTH_FILE": str(tmp_path / "worker.alive")}
    code, out = await lendflow(clean, "healthcheck", "worker", extra=alive)
    assert code == 1 and "not written yet" in out
    with worker_process(clean, f"health-{uuid.uuid4()}", tmp_path, "http://127.0.0.1:9") as worker:
        for _ in range(30):
            code, out = await lendflow(clean, "healthcheck", "worker", extra=alive)
            if code == 0:
                break
            await asyncio.sleep(1)
        assert code == 0, out
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait, 30) == 0
    long_ago = time.time() - 120
    os.utime(tmp_path / "worker.alive", (long_ago, long_ago))  # a worker that stopped touching it
    code, out = await lendflow(clean, "healthcheck", "worker", extra=alive)
    assert code == 1 and "last alive" in out
    code, out = await lendflow(clean, "healthcheck", "api", extra={"LENDFLOW_API_PORT": "9"})
    assert code == 1  # nothing answers there


async def test_an_operator_exports_a_report_and_approves_a_recalculation_from_the_shell(
    http: httpx.AsyncClient, clean: Stack, tmp_path: Path
) -> None:
    admin = await admin_token(http, clean.settings)
    partners = await partner_line(http, admin, "cli-eu", ["+447700969101", "+447700969102", "+447700969103"])
    await deposit(http, "cli-eu", "cli-1", partners[-1]["referral_code"], "100.00")
    for _ in range(100):  # the real-time distributor pays the deposit's lines
        async with clean.engine.connect() as conn:
            if (await conn.exec_driver_sql("SELECT count(*) FROM commission_lines")).scalar():
                break
        await asyncio.sleep(0.1)
    month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    terms = {"project": "cli-eu", "valid_from": month.isoformat(), "levels": ["10", "6", "1"]}
    recorded = await http.post(f"/v1/staff/partners/{partners[1]['id']}/terms", json=terms, headers=bearer(admin))
    assert recorded.status_code == 201, recorded.text
    preview_url = recorded.json()["preview"]
    await until(http, preview_url, admin, "previewed")
    recalculation_id = preview_url.rsplit("/", 1)[1]

    code, shown = await lendflow(clean, "recalculation", "show", recalculation_id)
    assert code == 0 and "previewed" in shown, shown
    assert f"{partners[1]['id']}\t{month:%Y-%m}\t500\t600\t100" in shown  # level 2: 5% of 100.00, now 6%
    code, refused = await lendflow(clean, "recalculation", "approve", recalculation_id)
    assert code != 0 and "--as" in refused
    code, approved = await lendflow(
        clean, "recalculation", "approve", recalculation_id, "--as", clean.settings.admin_email
    )
    assert code == 0 and "posted" in approved, approved
    view = (await http.get(preview_url, headers=bearer(admin))).json()
    assert view["status"] == "posted" and view["approved_by"]
    code, again = await lendflow(
        clean, "recalculation", "approve", recalculation_id, "--as", clean.settings.admin_email
    )
    assert code != 0 and "not waiting for approval" in again
    async with clean.engine.connect() as conn:
        audited = await conn.exec_driver_sql(
            "SELECT details->>'via', details->>'approver' FROM audit_log WHERE action = 'recalculation.approve'"
        )
        assert audited.all() == [("cli", clean.settings.admin_email)]

    # The trial balance from the shell is the console's CSV download, line for line.
    out = tmp_path / "trial-balance.csv"
    code, said = await lendflow(clean, "report", "trial-balance", "--out", str(out))
    assert code == 0 and "written" in said, said
    downloaded = await http.get("/v1/staff/reports/trial-balance", headers=bearer(admin) | {"Accept": "text/csv"})
    assert out.read_bytes() == downloaded.content and downloaded.text.startswith("currency,account,kind,balance")
    code, daily = await lendflow(clean, "report", "daily", "--date", "not-a-date")
    assert code != 0 and "invalid" in daily
