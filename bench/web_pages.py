"""Server time of the borrower's and partner's pages on the demo data, as `lendflow dev` makes it.

    python bench/web_pages.py [--borrowers 60] [--days 20] [--repeat 40]

Starts the whole platform (`lendflow dev` with a throwaway data folder, ports of its own), walks the demo activity
through it (borrowers applying, paid out, repaying, business dates closed, a partner network with a client's
events), signs in on the pages as a demo borrower with a loan and as a demo partner, then asks each page
`--repeat` times. The figure per page is its server time from the `Server-Timing` header the API's middleware
sets (the page is rendered before its headers go, so this is all of its work, without the network); the baseline,
in the same run, is the API's own `GET /v1/loans` for the same borrower, the cheapest read a page makes. The
target (issue 17) is every page's median under 100 ms. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from workers.demo_activity import generate
from workers.devstack.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
TIMING = re.compile(r"app;dur=([0-9.]+)")
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@lendflow.dev", "lendflow-admin"


def server_ms(response: httpx.Response) -> float:
    found = TIMING.search(response.headers.get("server-timing", ""))
    if found is None:
        raise RuntimeError(f"{response.request.url} answered no Server-Timing")
    return float(found.group(1))


async def code_for(http: httpx.AsyncClient, phone: str, seen: int) -> str:
    for _ in range(300):
        found = (await http.get("/v1/dev/outbox", params={"to": phone})).json()["data"]
        if len(found) > seen:
            match = re.search(r"\b(\d{6})\b", found[0]["body"])
            if match:
                return match.group(1)
        await asyncio.sleep(0.1)
    raise RuntimeError(f"no code reached {phone}")


async def sign_in(http: httpx.AsyncClient, face: str, phone: str) -> None:
    page = await http.get(f"/{face}/sign-in")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token is not None, page.text[:500]
    seen = len((await http.get("/v1/dev/outbox", params={"to": phone})).json()["data"])
    sent = await http.post(f"/{face}/sign-in", data={"form_token": token.group(1), "phone": phone, "country": ""})
    assert sent.status_code == 303, sent.text[:500]
    code = await code_for(http, phone, seen)
    signed = await http.post(f"/{face}/sign-in/code", data={"form_token": token.group(1), "code": code})
    assert signed.status_code == 303, signed.text[:500]


async def timed(http: httpx.AsyncClient, path: str, repeat: int, **kwargs: Any) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        answer = await http.get(path, **kwargs)
        if answer.status_code != 200:
            raise RuntimeError(f"{path} answered {answer.status_code}: {answer.text[:300]}")
        times.append(server_ms(answer))
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(len(times) * 0.95) - 1], 1)}


async def measure(base: str, borrowers: int, days: int, repeat: int) -> dict[str, Any]:
    started = time.monotonic()
    demo = await generate(base, ADMIN_EMAIL, ADMIN_PASSWORD, borrowers, days)
    demo_s = time.monotonic() - started
    pages: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        phone, loan_id = await _borrower_with_a_loan(http, borrowers)
        products = re.findall(r'option value="([0-9a-f-]{36})"', (await http.get("/account/calculator")).text)
        applications = re.findall(r"/account/applications/([0-9a-f-]{36})", (await http.get("/account")).text)
        wallets = re.findall(r"/account/wallets/([0-9a-f-]{36})", (await http.get("/account/wallets")).text)
        paths = {
            "account": "/account",
            "calculator_quote": f"/account/calculator?product={products[0]}&amount=300&term=30" if products else "",
            "loan": f"/account/loans/{loan_id}",
            "application": f"/account/applications/{applications[0]}" if applications else "",
            "wallets": "/account/wallets",
            "statement": f"/account/wallets/{wallets[0]}" if wallets else "",
            "messages": "/account/messages",
        }
        for name, path in paths.items():
            if path:
                pages[name] = await timed(http, path, repeat)
        token = await _token(http, phone)
        baseline = await timed(http, "/v1/loans", repeat, headers={"Authorization": f"Bearer {token}"})
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        await sign_in(http, "partner", "+447700800001")  # a demo partner near the top of the network
        for name, path in (("partner", "/partner"), ("network", "/partner/network"), ("payouts", "/partner/payouts")):
            pages[name] = await timed(http, path, repeat)
    return {"demo_seconds": round(demo_s, 1), "demo": demo, "pages": pages, "baseline_api_loans": baseline}


async def _borrower_with_a_loan(http: httpx.AsyncClient, borrowers: int) -> tuple[str, str]:
    """The first demo borrower (phones `+4477009nnnnn`, as workers/demo_activity.py numbers them) whose account
    shows a loan, signed in."""
    for n in range(1, min(borrowers, 15) + 1):
        phone = f"+4477009{n:05d}"
        http.cookies.clear()
        await sign_in(http, "account", phone)
        found = re.search(r"/account/loans/([0-9a-f-]{36})", (await http.get("/account")).text)
        if found:
            return phone, found.group(1)
    raise RuntimeError("no demo borrower among the first 15 has a loan")


async def _token(http: httpx.AsyncClient, phone: str) -> str:
    seen = len((await http.get("/v1/dev/outbox", params={"to": phone})).json()["data"])
    await asyncio.sleep(1)
    assert (await http.post("/v1/auth/otp", json={"phone": phone})).status_code == 202
    code = await code_for(http, phone, seen)
    return str((await http.post("/v1/auth/token", json={"phone": phone, "code": code})).json()["access_token"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--borrowers", type=int, default=60)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lendflow-web-bench-") as data:
        port = free_port()
        # The demo's borrowers all sign in from this one address: its per-address code limit is lifted, as
        # `lendflow dev` lifts it for its own demo.
        env = {**os.environ, "LENDFLOW_DEMO_ACTIVITY": "false", "LENDFLOW_OTP_MAX_PER_ADDRESS": "100000"}
        command = [
            str(Path(sys.executable).parent / "lendflow"),
            "dev",
            "--data-dir",
            data,
            "--api-port",
            str(port),
            "--temporal-port",
            str(free_port()),
            "--temporal-ui-port",
            str(free_port()),
            "--embedded-postgres-port",
            str(free_port()),
        ]
        stack = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base, stack)
            found = asyncio.run(measure(base, args.borrowers, args.days, args.repeat))
        finally:
            stack.send_signal(signal.SIGINT)
            try:
                stack.wait(60)
            except subprocess.TimeoutExpired:
                stack.kill()
    print(f"demo data: {args.borrowers} borrowers over {args.days} business dates, made in {found['demo_seconds']} s")
    print(f"{'page':<18}{'p50 ms':>10}{'p95 ms':>10}")
    for name, figures in found["pages"].items():
        print(f"{name:<18}{figures['p50_ms']:>10}{figures['p95_ms']:>10}")
    base_line = found["baseline_api_loans"]
    print(f"{'GET /v1/loans':<18}{base_line['p50_ms']:>10}{base_line['p95_ms']:>10}   (baseline, same run)")
    slowest = max(f["p50_ms"] for f in found["pages"].values())
    summary = {
        "pages_p50_ms": {name: f["p50_ms"] for name, f in found["pages"].items()},
        "pages_p95_ms": {name: f["p95_ms"] for name, f in found["pages"].items()},
        "baseline_api_loans_p50_ms": base_line["p50_ms"],
        "slowest_page_p50_ms": slowest,
        "slowest_page_vs_baseline": round(slowest / max(base_line["p50_ms"], 0.1), 2),
        "target_p50_under_100_ms": slowest < 100,
    }
    print(json.dumps(summary))


def _wait_ready(base: str, stack: subprocess.Popen[bytes], timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if stack.poll() is not None:
            raise RuntimeError(f"lendflow dev exited with {stack.returncode}")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the platform did not become ready")


if __name__ == "__main__":
    main()
