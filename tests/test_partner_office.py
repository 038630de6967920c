"""The partner's office over HTTP: a commission shows up in today's earnings and the open period once a client
platform reports a deposit, the downline is in the genealogy tree with its level and contribution, the statement
downloads as CSV, the referral link follows the project's site, and someone who is no partner sees no figures."""

from __future__ import annotations

import asyncio
import csv
import io

import httpx

from tests.affiliate_steps import deposit, partner_line
from tests.conftest import Stack
from tests.helpers import admin_token
from tests.people_steps import csrf, person_sign_in


async def test_a_partner_sees_a_commission_arrive_and_their_downline(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    phones = ["+447700962001", "+447700962002", "+447700962003"]
    root, middle, leaf = await partner_line(http, admin, "casino-gb", phones, site_url="https://casino.example/join")
    office = await person_sign_in(http, phones[1], face="partner")
    assert office.status_code == 200 and 'data-test="project-casino-gb"' in office.text
    await deposit(http, "casino-gb", "d1", leaf["referral_code"], "200.00")
    # The leaf earns 10% (20.00), the middle partner 5% (10.00): real time, within seconds.
    for _ in range(100):
        office = await http.get("/partner")
        if "€10.00" in office.text:
            break
        await asyncio.sleep(0.1)
    assert '<div class="value" data-test="today">€10.00</div>' in office.text, office.text
    assert '<div class="value" data-test="open-period">€10.00</div>' in office.text
    tree = await http.get("/partner/network")
    assert "Partner 2" in tree.text and "Partner 0" not in tree.text  # below, never above
    assert "level 2 · €20.00" in tree.text
    assert f"https://casino.example/join?ref={middle['referral_code']}" in tree.text
    period = next(line for line in office.text.split('"') if line.startswith("/partner/statements/casino-gb/"))
    download = await http.get(period)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert sum(float(r["amount"]) for r in rows) == 10.0 and rows[0]["currency"] == "EUR"
    payouts = await http.get("/partner/payouts")
    saved = await http.post("/partner/payouts/destination", data={"csrf_token": csrf(payouts), "destination": "ba_123"})
    assert saved.status_code == 303
    assert 'value="ba_123"' in (await http.get("/partner/payouts")).text
    assert root["id"]

    http.cookies.clear()
    await person_sign_in(http, "+447700962009", face="partner")  # signed in, but no partner anywhere
    stranger = await http.get("/partner")
    assert stranger.status_code == 404 and "€" not in stranger.text
