"""`/metrics` for Prometheus: requests, their latency and their errors by route (the route's template, never the
ids in a path, so the series stay few). The workers' own metrics come from the Temporal SDK's runtime (issue 18)."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("lendflow_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram(
    "lendflow_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


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
