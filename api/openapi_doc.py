"""The OpenAPI document as the API really answers: every error an operation can give is described once here, as
the problem+json document it is (not FastAPI's default validation shape), and summaries read as sentences taken
from the routes' own docstrings."""

from __future__ import annotations

import re
from typing import Any

PROBLEM = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable and meant for programs.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "examples": ["validation_error", "not_found", "forbidden", "conflict"]},
        "errors": {"type": "array", "items": {"type": "object"}, "description": "per field, for validation_error"},
        "problems": {"type": "array", "items": {"type": "string"}},
    },
}
SIGN_IN = {"/v1/auth/otp", "/v1/auth/token", "/v1/staff/token"}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _errors(path: str, method: str, operation: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if "security" in operation:
        errors["401"] = "unauthorized: no bearer token, or it is invalid, expired or its account disabled"
        errors["403"] = "forbidden: the caller's role or project scope does not allow this"
    if "{" in path or "requestBody" in operation or "/me" in path or method != "get":
        errors["404"] = "not_found: nothing with that id (in the path or the body) that the caller may see"
    if method in ("post", "put", "patch"):
        errors["409"] = (
            "conflict: the state does not allow this now, or an Idempotency-Key was reused with another body"
        )
        errors["413"] = "payload_too_large: the body is larger than the platform takes"
    if "requestBody" in operation or operation.get("parameters") or method in ("post", "put", "patch"):
        errors["422"] = "validation_error: the input is not what the schema says; nothing was changed"
    if path.startswith(("/v1/webhooks/", "/v1/ingest/")):
        errors["400"] = "invalid_signature: the sender's signature does not match the body (some senders)"
        errors["401"] = "invalid_signature: the sender's signature is missing or does not match the body"
    if path in SIGN_IN:
        errors["429"] = "rate_limited: too many attempts; `Retry-After` says when to try again"
    return errors


def describe_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Adds the problem responses and sentence summaries to a generated document, in place; returns it."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status, text in _errors(path, method, operation).items():
                responses[status] = _problem(text)
            description = (operation.get("description") or "").strip()
            if description:
                first = re.split(r"(?<=[.:;])\s", description.replace("\n", " "), maxsplit=1)[0].rstrip(".:;")
                if len(first) <= 120:
                    operation["summary"] = first
    return document
