"""A borrower's app follows its application over server-sent events instead of polling: the status as it stands,
then each change as the database announces it, until the application ends."""

from __future__ import annotations

import asyncio
import json

import httpx

from tests.conftest import Stack
from tests.helpers import admin_token, bearer, borrower_token
from tests.origination_steps import application_body, apply, lending_product
from tests.served import served_api


async def read_events(response: httpx.Response, until: set[str], timeout_s: float = 30) -> list[str]:
    statuses: list[str] = []

    async def read() -> None:
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                event = line.removeprefix("event:").strip()
            elif line.startswith("data:") and event == "status":
                statuses.append(json.loads(line.removeprefix("data:"))["status"])
                if statuses[-1] in until:
                    return

    await asyncio.wait_for(read(), timeout=timeout_s)
    return statuses


async def test_the_app_hears_each_status_as_it_changes_and_the_stream_ends_with_the_application(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await lending_product(http, admin)
    phone = "+447700980001"
    token = await borrower_token(http, phone)
    async with served_api(clean) as base, httpx.AsyncClient(base_url=base, timeout=60) as client:
        created = await apply(http, token, application_body(product_id, phone, national_id="EV000001"))
        url = f"/v1/applications/{created['id']}/events"
        async with client.stream("GET", url, headers=bearer(token)) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            seen = await read_events(response, {"rejected"})
        assert seen[-1] == "rejected" and len(seen) >= 2  # pushed as it moved, not only the end
        assert len(seen) == len(set(seen))  # each status once
        other = await borrower_token(http, "+447700980002")
        assert (await client.get(url, headers=bearer(other))).status_code == 404  # only its borrower follows it
    # An ended application answers its last status and closes the stream at once.
    async with (
        served_api(clean) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as client,
        client.stream("GET", url, headers=bearer(token)) as response,
    ):
        body = [line async for line in response.aiter_lines()]
    assert sum(line.startswith("event: status") for line in body) == 1
