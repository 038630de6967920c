"""`/healthz` (the process answers) and `/readyz` (the database and Temporal answer too)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.dependencies import Resources
from api.problems import problem_response

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={
        503: {
            "description": "the database or Temporal did not answer in time",
            "content": {"application/problem+json": {}},
        }
    },
)
async def readyz(resources: Resources) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with resources.engine.connect() as conn:
            await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=3)
        checks["database"] = "ok"
    except Exception as err:
        checks["database"] = f"unreachable: {type(err).__name__}"
    try:
        client = await asyncio.wait_for(resources.temporal(), timeout=3)
        await asyncio.wait_for(client.service_client.check_health(), timeout=3)
        checks["temporal"] = "ok"
    except Exception as err:
        checks["temporal"] = f"unreachable: {type(err).__name__}"
    if all(value == "ok" for value in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return problem_response(503, "unavailable", "a dependency is not reachable", extra={"checks": checks})
