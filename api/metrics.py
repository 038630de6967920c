"""`/metrics` for Prometheus: requests, their latency and their errors by route (the route's template, never the
ids in a path, so the series stay few), webhook signature failures, and the platform's own figures read from the
database at scrape time (cached for `FIGURES_TTL_S`): close of business lag, applications by status, the commission
queue, and each currency's ledger net (never anything but zero). The workers' metrics come from the Temporal SDK's
runtime on their own port (`LENDFLOW_WORKER_METRICS_ADDRESS`); deploy/grafana and deploy/prometheus use both."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.dependencies import Resources
from api.metric_registry import APPLICATIONS, COB_LAG, COMMISSION_QUEUE, LATENCY, LEDGER_NET, REGISTRY, REQUESTS
from store.repositories import operational

FIGURES_TTL_S = 15.0
router = APIRouter(tags=["health"])
_read_at = -FIGURES_TTL_S


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(resources: Resources) -> Response:
    global _read_at
    if time.monotonic() - _read_at >= FIGURES_TTL_S:
        _read_at = time.monotonic()
        try:
            async with resources.session_factory() as session:
                found = await operational.figures(session)
        except Exception:
            found = None
        if found is not None:
            _publish(found, resources.settings.market_timezone)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def _publish(found: operational.Figures, timezone: str) -> None:
    today = datetime.now(ZoneInfo(timezone)).date()
    open_date = found.posted_through + timedelta(days=1) if found.posted_through else today
    COB_LAG.set((today - open_date).days)
    APPLICATIONS.clear()
    for status, count in found.applications.items():
        APPLICATIONS.labels(status).set(count)
    COMMISSION_QUEUE.clear()
    for project, count in found.commission_queue.items():
        COMMISSION_QUEUE.labels(project).set(count)
    LEDGER_NET.clear()
    for currency, net in found.ledger_net.items():
        LEDGER_NET.labels(currency).set(net)


class RequestMetrics:
    """ASGI middleware: counts every answer by method, route template and status, and times it (also in each
    answer's `Server-Timing` header)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # How long the answer took to make, for a browser's devtools and bench/web_pages.py (W3C
                # Server-Timing). A page is rendered before its headers go, so this is its whole server time.
                took_ms = (time.perf_counter() - started) * 1000
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"server-timing", f"app;dur={took_ms:.1f}".encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            REQUESTS.labels(method, template, str(status)).inc()
            LATENCY.labels(method, template).observe(time.perf_counter() - started)
