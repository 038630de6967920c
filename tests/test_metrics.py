"""`/metrics` counts what the API answers, by route template (never by id) and status, and times it."""

from __future__ import annotations

import re

import httpx

from tests.conftest import Stack
from tests.helpers import admin_token, bearer
from tests.test_wallets import configure, fund, holder


def count(text: str, route: str, status: str) -> float:
    pattern = rf'lendflow_http_requests_total\{{method="GET",route="{re.escape(route)}",status="{status}"\}} (\S+)'
    found = re.search(pattern, text)
    return float(found.group(1)) if found else 0.0


async def test_requests_are_counted_by_route_template_and_status(http: httpx.AsyncClient, clean: Stack) -> None:
    before = (await http.get("/metrics")).text
    admin = await admin_token(http, clean.settings)
    for _ in range(3):
        assert (
            await http.get("/v1/staff/loans/00000000-0000-0000-0000-000000000001", headers=bearer(admin))
        ).status_code == 404
    after = await http.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    route = "/v1/staff/loans/{loan_id}"
    assert count(after.text, route, "404") == count(before, route, "404") + 3
    assert "00000000-0000-0000-0000-000000000001" not in after.text
    assert 'lendflow_http_request_seconds_bucket{le="0.5",method="GET",route="/v1/staff/loans/{loan_id}"}' in after.text


async def test_the_platforms_own_figures_and_signature_failures_are_exported(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    from api import metrics

    metrics._read_at = -metrics.FIGURES_TTL_S  # read the database at this scrape, not from the last one's cache
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    holder_ = await holder(http, "+447700968001")
    await fund(http, admin, holder_["wallets"]["USD"], 12_345)  # money moved: accounts with balances exist
    forged = await http.post(
        "/v1/webhooks/stripe", content=b'{"type": "payout.paid"}', headers={"Stripe-Signature": "t=1,v1=00"}
    )
    assert forged.status_code == 400
    text = (await http.get("/metrics")).text
    assert re.search(r'lendflow_webhook_signature_failures_total\{route="/v1/webhooks/stripe"\} [1-9]', text)
    assert re.search(r"^lendflow_cob_lag_days \S+$", text, re.M)
    nets = re.findall(r'^lendflow_ledger_net_minor_units\{currency="(\w+)"\} (\S+)$', text, re.M)
    assert ("USD", "0.0") in nets and all(value == "0.0" for _, value in nets), nets  # every currency nets to zero
