"""A request id on every request: taken from `X-Request-ID` when a proxy set one, made up otherwise, echoed in
the response, and stamped on every log line written while the request runs."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
log = logging.getLogger("lendflow.http")


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _ACCEPTABLE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status_holder: dict[str, int] = {}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info("%s %s -> %s", scope["method"], scope["path"], status_holder.get("status", "-"))
            request_id_var.reset(token)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line, for a log pipeline: the time, level, logger and message, the request id, and when
    Temporal's loggers wrote the line, the workflow (and activity) it came from; the trace id when tracing is on."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for source in ("temporal_activity", "temporal_workflow"):
            found = getattr(record, source, None)
            if isinstance(found, dict):
                for key in ("workflow_id", "run_id", "workflow_type", "activity_type", "activity_id", "attempt"):
                    if key in found and key not in line:
                        line[key] = found[key]
        trace_id = _trace_id()
        if trace_id:
            line["trace_id"] = trace_id
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def _trace_id() -> str | None:
    try:
        from opentelemetry import trace
    except ImportError:  # pragma: no cover - opentelemetry is a dependency; a trimmed install still logs
        return None
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def configure_logging(level: str, as_json: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdLogFilter())
    if as_json:
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
