"""The demo activity `lendflow dev` makes on a fresh platform: borrowers through the real flows (offers, reviews,
rejections, payouts, repayments), business dates closed until loans fall overdue, and a partner network with a
client's events, so every console page has something true to show. A small run of it, on the test stack."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Stack
from tests.helpers import admin_token, bearer
from tests.served import served_api
from workers.demo_activity import generate
from workers.demo_data import ensure_demo_data

pytestmark = pytest.mark.slow


async def test_the_demo_fills_every_part_of_the_platform(http: httpx.AsyncClient, clean: Stack) -> None:
    await ensure_demo_data(clean.sessions)
    async with served_api(clean) as base:
        made = await generate(base, clean.settings.admin_email, clean.settings.admin_password, borrowers=16, days=40)
    assert made["failures"] == 0, made
    assert made["applications"] == 16 and made["loans"] >= 8 and made["partners"] == 13
    admin = await admin_token(http, clean.settings)
    staff = bearer(admin)
    statuses = {
        a["status"]
        for s in ("rejected", "manual_review")
        for a in (await http.get("/v1/staff/applications", params={"status": s}, headers=staff)).json()["data"]
    }
    assert statuses == {"rejected", "manual_review"}
    loans = (await http.get("/v1/staff/loans", params={"limit": 500}, headers=staff)).json()["data"]
    assert {"repaid", "overdue"} <= {loan["status"] for loan in loans}
    dashboard = (await http.get("/v1/staff/dashboard", headers=staff)).json()
    assert dashboard["funnel"]["disbursed"] == made["loans"]
    network = (await http.get("/v1/staff/projects/casino-demo/partners", headers=staff)).json()
    assert len(network["partners"]) == 13
    trial = (await http.get("/v1/staff/reports/trial-balance", headers=staff)).json()
    assert set(trial["totals"].values()) == {0}
