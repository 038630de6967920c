"""What every route promises: a token unless it is public, problem+json errors, request ids."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import Stack

# Routes that answer without a bearer token, and why.
PUBLIC = {
    ("POST", "/v1/auth/otp"),  # sign-in
    ("POST", "/v1/auth/token"),
    ("POST", "/v1/staff/token"),
    ("GET", "/healthz"),  # health
    ("GET", "/readyz"),
    ("GET", "/metrics"),  # Prometheus: counts by route template, no data of anyone's
    ("GET", "/v1/dev/outbox"),  # development only
    ("POST", "/v1/webhooks/twilio/status"),  # authenticated by X-Twilio-Signature
    ("POST", "/v1/webhooks/twilio/inbound"),
    ("POST", "/v1/webhooks/stripe"),  # authenticated by Stripe-Signature
    ("POST", "/v1/webhooks/bureau/{provider}"),  # authenticated by X-Signature (HMAC of the body)
    ("POST", "/v1/ingest/{project_code}/{integration_name}"),  # authenticated by X-Signature (HMAC of the body)
}


def all_routes(stack: Stack) -> list[tuple[str, str]]:
    """Every operation the app serves, as its OpenAPI document lists them."""
    paths = stack.app.openapi()["paths"]
    return [(method.upper(), path) for path, operations in paths.items() for method in operations]


async def test_no_route_answers_without_a_token_unless_it_is_public(http: httpx.AsyncClient, clean: Stack) -> None:
    guarded = [(m, p) for m, p in all_routes(clean) if (m, p) not in PUBLIC]
    assert guarded, "the app should have guarded routes"
    for method, path in guarded:
        concrete = re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000000", path)
        response = await http.request(method, concrete, json={})
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "unauthorized"


async def test_the_public_routes_are_the_ones_the_contract_names(clean: Stack) -> None:
    assert set(all_routes(clean)) >= PUBLIC


async def test_a_forged_token_is_refused(http: httpx.AsyncClient, clean: Stack) -> None:
    forged = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwia2luZCI6InN0YWZmIiwicm9sZXMiOlsiYWRtaW4iXX0.c2lnbmF0dXJl"
    )
    response = await http.get("/v1/staff/audit", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_errors_are_problem_documents(http: httpx.AsyncClient, clean: Stack) -> None:
    not_found = await http.get("/v1/nothing-here")
    assert not_found.status_code == 404
    assert not_found.headers["content-type"] == "application/problem+json"
    assert {"type", "title", "status", "detail", "code"} <= set(not_found.json())

    broken_json = await http.post("/v1/auth/otp", content=b"{not json", headers={"content-type": "application/json"})
    assert broken_json.status_code == 422
    assert broken_json.json()["code"] == "validation_error"

    wrong_method = await http.delete("/v1/auth/otp")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"


async def test_every_response_carries_a_request_id(http: httpx.AsyncClient, clean: Stack) -> None:
    generated = await http.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["x-request-id"])
    echoed = await http.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["x-request-id"] == "trace-42"


async def test_ready_when_the_database_and_temporal_answer(http: httpx.AsyncClient, clean: Stack) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "temporal": "ok"}


async def test_the_openapi_document_describes_the_sign_in_routes(http: httpx.AsyncClient, clean: Stack) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]
    assert {"/v1/auth/otp", "/v1/auth/token", "/v1/staff/token", "/v1/staff/audit"} <= set(paths)


def _unbounded(schema: dict[str, Any], components: dict[str, Any], where: str) -> list[str]:
    """Fields that accept unbounded input: integers without a maximum, strings without a length, pattern, format
    or set of values, arrays without a largest size."""
    if "$ref" in schema:
        schema = components[schema["$ref"].split("/")[-1]]
    found: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            found += _unbounded(sub, components, where)
    kind = schema.get("type")
    if kind == "object":
        for name, sub in schema.get("properties", {}).items():
            found += _unbounded(sub, components, f"{where}.{name}")
    elif kind == "array":
        if "maxItems" not in schema:
            found.append(f"{where}: array without maxItems")
        found += _unbounded(schema.get("items", {}), components, f"{where}[]")
    elif kind == "integer" and "maximum" not in schema and "exclusiveMaximum" not in schema:
        found.append(f"{where}: integer without maximum")
    elif kind == "string" and not {"maxLength", "pattern", "enum", "format", "const"} & set(schema):
        found.append(f"{where}: string without a bound")
    return found


async def test_every_input_the_api_takes_is_bounded_in_its_schema(clean: Stack) -> None:
    """Upper bounds where a value drives work or storage, stated in the document (docs/units.md): a new route or
    field without one fails here before it can make a 500."""
    app_openapi = clean.app.openapi()
    components = app_openapi["components"]["schemas"]
    problems: list[str] = []
    for path, operations in app_openapi["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                problems += _unbounded(parameter.get("schema", {}), components, f"{method} {path} ?{parameter['name']}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                problems += _unbounded(content["schema"], components, f"{method} {path} body")
    assert problems == []
