"""The httpx bureau and scoring adapters against a bureau served over HTTP (a small app that answers as our
documented provider shape does: reports, thin files as 404, outages as 503, scores now or by callback)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse

from providers.cpa.postback import HttpPostback, PostbackRefused
from providers.credit.http_credit import HttpBureau, HttpScoring
from providers.credit.protocol import CreditProviderUnavailable, Subject

API_KEY = "bureau-key"


def bureau_server(state: dict[str, Any]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/reports")
    async def report(request: Request, authorization: str = Header()) -> JSONResponse:
        state["calls"] = state.get("calls", 0) + 1
        if authorization != f"Bearer {API_KEY}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if state.get("down"):
            return JSONResponse({"error": "maintenance"}, status_code=503)
        body = await request.json()
        if body["national_id"].endswith("0002"):
            return JSONResponse({"error": "no file"}, status_code=404)
        return JSONResponse(
            {
                "id": f"rep_{body['reference']}",
                "found": True,
                "open_loans": 2,
                "delinquencies_12m": 1,
                "worst_days_past_due": 12,
                "outstanding": 40_000,
            }
        )

    @app.post("/v1/scores")
    async def score(request: Request) -> JSONResponse:
        body = await request.json()
        state["callback_url"] = body["callback_url"]
        if body["national_id"].endswith("0009"):
            return JSONResponse({"id": "sc_later", "status": "pending"}, status_code=202)
        return JSONResponse({"id": "sc_now", "status": "completed", "score": 712})

    @app.get("/postback")
    async def postback(ok: int = 1) -> JSONResponse:
        return JSONResponse({}, status_code=200 if ok else 500)

    return app


def client_factory(app: FastAPI) -> Any:
    return lambda: httpx.AsyncClient(transport=httpx.ASGITransport(app=app))


SUBJECT = Subject("app-1", "AB120001", "Alice Example", date(1990, 5, 1))


async def test_a_bureau_report_is_read_and_a_missing_file_is_a_thin_file() -> None:
    state: dict[str, Any] = {}
    bureau = HttpBureau("bureau-a", "http://bureau", API_KEY, http_client_factory=client_factory(bureau_server(state)))
    report = await bureau.report(SUBJECT)
    assert (report.reference, report.found, report.open_loans, report.delinquencies_12m) == ("rep_app-1", True, 2, 1)
    thin = await bureau.report(Subject("app-2", "AB120002", "Bob", date(1980, 1, 1)))
    assert thin.found is False


async def test_an_outage_or_a_bad_key_is_unavailable_not_a_verdict() -> None:
    state: dict[str, Any] = {"down": True}
    app = bureau_server(state)
    with pytest.raises(CreditProviderUnavailable):
        await HttpBureau("bureau-a", "http://bureau", API_KEY, http_client_factory=client_factory(app)).report(SUBJECT)
    state["down"] = False
    with pytest.raises(CreditProviderUnavailable):
        await HttpBureau("bureau-a", "http://bureau", "wrong", http_client_factory=client_factory(app)).report(SUBJECT)
    unreachable = HttpBureau("bureau-a", "http://127.0.0.1:9", API_KEY, timeout_s=1)
    with pytest.raises(CreditProviderUnavailable):
        await unreachable.report(SUBJECT)


async def test_a_score_comes_now_or_is_promised_by_callback() -> None:
    state: dict[str, Any] = {}
    scoring = HttpScoring(
        "scoring", "http://scoring", API_KEY, http_client_factory=client_factory(bureau_server(state))
    )
    now = await scoring.request_score(SUBJECT, "https://lendflow.example/v1/webhooks/bureau/scoring")
    assert (now.reference, now.score) == ("sc_now", 712)
    later = await scoring.request_score(Subject("app-3", "AB120009", "Carol", date(1985, 3, 3)), "https://cb")
    assert (later.reference, later.score) == ("sc_later", None)
    assert state["callback_url"] == "https://cb"


async def test_a_postback_counts_only_when_the_network_answers_2xx() -> None:
    sender = HttpPostback(http_client_factory=client_factory(bureau_server({})))
    await sender.send("http://network/postback?ok=1")
    with pytest.raises(PostbackRefused):
        await sender.send("http://network/postback?ok=0")
