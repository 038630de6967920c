"""Demo activity for `lendflow dev`: a few hundred borrowers walked through the real platform over its HTTP API as
an app would (sign-in codes read from the dev outbox, applications, offers, signatures, cards, payouts), some
repayments, business dates closed so loans age and some fall overdue into collections, and an affiliate network
with a client's events. Nothing is written behind the platform's back: every loan, entry and message is what the
workflows made of these requests, so every console page has something true to show.

Run once per data folder (`demo-activity.done` marks it) by `lendflow dev`, or by hand:
`lendflow demo-activity --base-url http://127.0.0.1:8000 --borrowers 200`."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from api.ingest.routes import signature_of

log = logging.getLogger("lendflow.demo")
# The fake bureau and scorer answer by the national id's last digits (providers/credit/fake_credit.py).
REJECTED, IN_REVIEW = "0001", "0004"
INTEGRATION_SECRET = "demo-client-secret-0123456789"


@dataclass
class Tally:
    applications: int = 0
    loans: list[tuple[str, str, int]] = field(default_factory=list)  # (token, loan id, principal)
    failures: int = 0


class DemoActivity:
    def __init__(self, base_url: str, admin_email: str, admin_password: str, *, seed: int = 7) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=120)
        self.admin_email, self.admin_password = admin_email, admin_password
        self.seed = seed
        self.random = random.Random(seed)
        self.admin = ""

    async def close(self) -> None:
        await self.http.aclose()

    async def _json(self, method: str, path: str, token: str = "", **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        answer = await self.http.request(method, path, headers=headers, **kwargs)
        if answer.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status_code} {answer.text[:300]}")
        return answer.json() if answer.content else None

    async def _code(self, phone: str, seen: int) -> str:
        for _ in range(200):
            found = (await self._json("GET", "/v1/dev/outbox", params={"to": phone}))["data"]
            if len(found) > seen:
                match = re.search(r"\b(\d{6})\b", found[0]["body"])
                if match:
                    return match.group(1)
            await asyncio.sleep(0.1)
        raise RuntimeError(f"no code reached {phone}")

    async def sign_in(self, phone: str) -> str:
        seen = len((await self._json("GET", "/v1/dev/outbox", params={"to": phone}))["data"])
        await self._json("POST", "/v1/auth/otp", json={"phone": phone})
        code = await self._code(phone, seen)
        return str((await self._json("POST", "/v1/auth/token", json={"phone": phone, "code": code}))["access_token"])

    async def _status(self, token: str, app_id: str, wanted: set[str], timeout_s: float = 90) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            found: dict[str, Any] = await self._json("GET", f"/v1/applications/{app_id}", token)
            if found["status"] in wanted:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"application {app_id} stayed {found['status']}")
            await asyncio.sleep(0.25)

    async def borrower(self, n: int, product_id: str, tally: Tally, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                await self._borrower(n, product_id, tally)
            except Exception as err:  # a demo borrower who fails is logged and skipped, not fatal
                tally.failures += 1
                log.warning("demo borrower %d: %s", n, err)

    async def _borrower(self, n: int, product_id: str, tally: Tally) -> None:
        phone = f"+4477009{n:05d}"
        token = await self.sign_in(phone)
        # Each borrower draws from a generator of their own: borrowers run concurrently, and a shared one would hand
        # out its draws in whatever order they happen to arrive. Borrowers 2 and 3 are always one rejected and one
        # left for an underwriter, so even a small demo shows every outcome.
        rng = random.Random(self.seed * 1_000_003 + n)
        roll = rng.random()
        if n in (2, 3):
            roll = 0.0 if n == 2 else 0.15
        suffix = REJECTED if roll < 0.12 else IN_REVIEW if roll < 0.2 else f"{n % 9000 + 1000:04d}"
        principal = rng.choice([10_000, 20_000, 25_000, 30_000, 40_000, 50_000, 75_000, 100_000])
        body = {
            "product_id": product_id,
            "principal": principal,
            "term_days": rng.choice([7, 14, 21, 30, 45, 60]),
            "applicant": {
                "full_name": f"Demo Borrower {n}",
                "national_id": f"DM{n:04d}{suffix}",
                "birth_date": f"19{70 + n % 30}-0{1 + n % 9}-1{n % 9}",
                "phone": phone,
                "email": f"borrower{n}@example.com",
                "monthly_income": rng.choice([150_000, 250_000, 400_000]),
            },
            "device_fingerprint": f"demo-device-{n:05d}",
        }
        app = await self._json(
            "POST", "/v1/applications", token, json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        tally.applications += 1
        found = await self._status(token, app["id"], {"offered", "rejected", "manual_review"})
        if found["status"] != "offered" or rng.random() < 0.08:  # some never take up their offer
            return
        seen = len((await self._json("GET", "/v1/dev/outbox", params={"to": phone}))["data"])
        await self._json("POST", f"/v1/applications/{app['id']}/accept", token)
        code = await self._code(phone, seen)
        await self._json("POST", f"/v1/applications/{app['id']}/sign", token, json={"code": code})
        await self._json("POST", f"/v1/applications/{app['id']}/card", token, json={"payment_method": "pm_card_visa"})
        funded = await self._status(token, app["id"], {"disbursed", "failed"})
        if funded["status"] == "disbursed":
            tally.loans.append((token, str(funded["loan_id"]), found["offer"]["principal"]))

    async def run(self, borrowers: int, days: int) -> dict[str, Any]:
        self.admin = str(
            (
                await self._json(
                    "POST", "/v1/staff/token", json={"email": self.admin_email, "password": self.admin_password}
                )
            )["access_token"]
        )
        products = (await self._json("GET", "/v1/staff/products", self.admin))["data"]
        product_id = next(p["id"] for p in products if p["code"] == "payday-gb")
        tally = Tally()
        gate = asyncio.Semaphore(8)
        await asyncio.gather(*(self.borrower(n, product_id, tally, gate) for n in range(1, borrowers + 1)))
        repaid = await self._repayments(tally)
        closed = await self._age(days)
        network = await self._network()
        return {
            "applications": tally.applications,
            "loans": len(tally.loans),
            "repayments": repaid,
            "closed_through": closed,
            "partners": network,
            "failures": tally.failures,
        }

    async def _repayments(self, tally: Tally) -> int:
        """A third repay in full, a fifth in part; the rest are left to run their course."""
        made = 0
        for token, loan_id, _ in tally.loans:
            roll = self.random.random()
            if roll > 0.55:
                continue
            loan = await self._json("GET", f"/v1/loans/{loan_id}", token)
            owed = int(loan["balances"]["total"])
            amount = owed if roll < 0.35 else max(100, owed // 3)
            await self._json(
                "POST",
                f"/v1/loans/{loan_id}/repayments",
                token,
                json={"amount": amount},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            made += 1
        return made

    async def _age(self, days: int) -> str:
        """Business dates closed up to `days` ahead: accruals post, loans fall due and some overdue."""
        calendar = await self._json("GET", "/v1/staff/cob", self.admin)
        until = date.fromisoformat(calendar["open_business_date"]) + timedelta(days=days)
        await self._json("POST", "/v1/staff/cob", self.admin, json={"until": until.isoformat()}, params={"wait_s": 600})
        return until.isoformat()

    async def _network(self) -> int:
        project = {
            "code": "casino-demo",
            "name": "Casino (demo)",
            "currency": "EUR",
            "points_per_unit": "1",
            "plan": {"levels": ["10", "5", "3"]},
            "accrual": "realtime",
        }
        await self._json("POST", "/v1/staff/projects", self.admin, json=project)
        partners: list[dict[str, Any]] = []
        for n in range(13):  # one root, three under it, nine under those
            body: dict[str, Any] = {"project": "casino-demo", "name": f"Partner {n + 1}", "phone": f"+4477008{n:05d}"}
            if n:
                body["sponsor_id"] = partners[(n - 1) // 3]["id"]
            partners.append(await self._json("POST", "/v1/staff/partners", self.admin, json=body))
        mapping = {
            "fields": {
                "event_id": "id",
                "kind": "type",
                "user": "player",
                "amount": "amount",
                "currency": "ccy",
                "occurred_at": "at",
                "referral_code": "ref",
            },
            "kinds": {"signup": "registration", "dep": "deposit"},
        }
        integration = {"name": "demo-client", "format": "json", "mapping": mapping, "secret": INTEGRATION_SECRET}
        await self._json("POST", "/v1/staff/projects/casino-demo/integrations", self.admin, json=integration)
        events: list[dict[str, Any]] = []
        now = datetime.now(UTC)
        for n in range(60):
            referrer = partners[4 + n % 9]
            at = (now - timedelta(days=self.random.randint(1, 40))).isoformat()
            events.append(
                {"id": f"r{n}", "type": "signup", "player": f"p{n}", "at": at, "ref": referrer["referral_code"]}
            )
            amount = f"{self.random.randint(10, 500)}.00"
            events.append({"id": f"d{n}", "type": "dep", "player": f"p{n}", "at": at, "amount": amount, "ccy": "EUR"})
        body = json.dumps({"events": events}).encode()
        await self._json(
            "POST",
            "/v1/ingest/casino-demo/demo-client",
            content=body,
            headers={"X-Signature": signature_of(INTEGRATION_SECRET, body), "Content-Type": "application/json"},
        )
        return len(partners)


async def generate(base_url: str, admin_email: str, admin_password: str, borrowers: int, days: int) -> dict[str, Any]:
    demo = DemoActivity(base_url, admin_email, admin_password)
    try:
        return await demo.run(borrowers, days)
    finally:
        await demo.close()
