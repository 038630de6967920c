"""The codec server for the Temporal Web UI (the documented protocol: `POST {endpoint}/encode` and
`POST {endpoint}/decode` with `{"payloads": [...]}` in Temporal's JSON form): operators see workflow inputs and
results decoded in the UI while the Temporal server stores only ciphertext (workflows/payload_codec.py).

Point the UI at `https://<lendflow>/codec` (its "Codec Server" setting). Only callers from the origins in
`LENDFLOW_CODEC_CORS_ORIGINS` get CORS headers, and every call needs a bearer token: the configured
`LENDFLOW_CODEC_SERVER_TOKEN`, or an admin's staff token. A decoded payload can hold personal data: whoever may
call this may read it, so the token is an admin's secret."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request
from fastapi.responses import Response
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from api.dependencies import Resources
from api.problems import Problem
from api.security.tokens import InvalidToken, read_token
from store.repositories.identity import staff_member
from workflows.payload_codec import EncryptionCodec, UnknownPayloadKey

router = APIRouter(prefix="/codec", include_in_schema=False)
ALLOWED_HEADERS = "authorization, content-type, x-namespace"


def _cors(request: Request, resources: Resources) -> dict[str, str]:
    origin = request.headers.get("origin")
    if origin is None or origin not in resources.settings.codec_cors_origins:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


async def _authorised(request: Request, resources: Resources) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    configured = resources.settings.codec_server_token
    if configured and hmac.compare_digest(token.encode(), configured.encode()):
        return True
    try:
        principal = read_token(token, resources.settings.jwt_secret)
    except InvalidToken:
        return False
    if principal.kind != "staff":
        return False
    async with resources.session_factory() as db:
        member = await staff_member(db, principal.id)
    return member is not None and member.active and "admin" in member.roles


async def _convert(request: Request, resources: Resources, direction: str) -> Response:
    cors = _cors(request, resources)
    if not await _authorised(request, resources):
        raise Problem(401, "unauthorized", "the codec server needs an admin's bearer token", headers=cors)
    try:
        payloads = json_format.Parse(await request.body(), Payloads())
    except json_format.ParseError:
        raise Problem(422, "validation_error", "the body is not Temporal's JSON of payloads", headers=cors) from None
    codec: EncryptionCodec = resources.payload_codec()
    try:
        done = await (codec.encode if direction == "encode" else codec.decode)(list(payloads.payloads))
    except (UnknownPayloadKey, ValueError) as refused:
        raise Problem(
            422, "validation_error", str(refused) or "a payload could not be decrypted", headers=cors
        ) from None
    body = json_format.MessageToJson(Payloads(payloads=done))
    return Response(body, media_type="application/json", headers=cors)


@router.post("/encode")
async def encode(request: Request, resources: Resources) -> Response:
    return await _convert(request, resources, "encode")


@router.post("/decode")
async def decode(request: Request, resources: Resources) -> Response:
    return await _convert(request, resources, "decode")


@router.options("/encode")
@router.options("/decode")
async def preflight(request: Request, resources: Resources) -> Response:
    return Response(status_code=204, headers=_cors(request, resources))
