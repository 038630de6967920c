"""One gate for every request before any route sees it: bodies no larger than configured, JSON nested no deeper than
`MAX_JSON_DEPTH`, and no control characters or lone UTF-16 surrogates in any JSON string, query string or path.

Such text is never meaningful here and breaks what sits behind the routes (PostgreSQL refuses NUL in text, a lone
surrogate cannot be encoded, deep nesting exhausts the parser's recursion), so it is refused once, in one place,
with a problem+json 422 (413 for size), and nothing behind it runs. Signed provider callbacks and client ingestion
pass through the same gate: a correctly signed body is still bad input."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_JSON_DEPTH = 32
# A JSON string escape that spells a control character (other than tab, newline, carriage return) or DEL, or a
# surrogate; the (?<!\\)(\\\\)* prefix makes sure the backslash before `u` is not itself escaped.
_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u(00[01][0-9a-fA-F]|007[fF]|[dD][89a-fA-F][0-9a-fA-F]{2})")
_PAIR = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_ALLOWED_CONTROL = {"0009", "000a", "000d"}
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_KEEP_BRACKETS = bytes(range(256)).translate(None, b"[]{}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]|[\ud800-\udfff]")


class InputRefused(ValueError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def check_json_text(body: bytes) -> None:
    """Refuses bodies that are not UTF-8, control-character and lone-surrogate escapes, and nesting deeper than
    `MAX_JSON_DEPTH`."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputRefused(422, "the body is not UTF-8 text") from None
    if b"\\u" in body:
        for found in _ESCAPE.finditer(body):
            code = found.group(1).decode().lower()
            if code.startswith("d"):
                continue  # surrogates: checked as pairs below
            if code not in _ALLOWED_CONTROL:
                raise InputRefused(422, "text may not contain control characters")
        paired = _PAIR.sub(b"", body)
        for found in _ESCAPE.finditer(paired):
            if found.group(1).decode().lower().startswith("d"):
                raise InputRefused(422, "text may not contain unpaired UTF-16 surrogates")
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return  # cannot nest deeper than that
    depth = deepest = 0
    for bracket in _STRINGS.sub(b"", body).translate(None, _KEEP_BRACKETS):
        depth += 1 if bracket in (0x5B, 0x7B) else -1
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            raise InputRefused(422, f"JSON may not nest deeper than {MAX_JSON_DEPTH} levels")


def check_text(value: str, what: str) -> None:
    if _CONTROL.search(value):
        raise InputRefused(422, f"the {what} may not contain control characters")


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind = value.split(b";")[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    # No content type: ingestion and provider callbacks may omit it and still send JSON.
    return True


class BodyGuard:
    """ASGI middleware: buffers a request's body once, checks it, and replays it to the app unchanged."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_text(unquote(scope.get("query_string", b"").decode("latin-1")), "query string")
            check_text(scope.get("path", ""), "path")
        except InputRefused as refused:
            await _refuse(send, refused)
            return
        if scope["method"] in ("GET", "HEAD", "DELETE", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _refuse(send, InputRefused(413, f"the body may not exceed {self.max_body_bytes} bytes"))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(scope):
            try:
                check_json_text(body)
            except InputRefused as refused:
                await _refuse(send, refused)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, refused: InputRefused) -> None:
    code = "validation_error" if refused.status == 422 else "payload_too_large"
    title = "Unprocessable Content" if refused.status == 422 else "Content Too Large"
    problem: dict[str, Any] = {
        "type": f"https://lendflow.dev/problems/{code}",
        "title": title,
        "status": refused.status,
        "detail": str(refused),
        "code": code,
    }
    body = json.dumps(problem).encode()
    await send(
        {
            "type": "http.response.start",
            "status": refused.status,
            "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
