"""Workflow histories hold only ciphertext: every payload the platform hands Temporal is encrypted with the
configured key (AES-256-GCM, the key id in its metadata), so a history read from the server without the keys
shows no phone number, name or free-text reason. The codec server decodes for the Temporal Web UI, for admins
only and only from the UI's origin; keys rotate without losing what the old key wrote."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator

import httpx
import pytest
from cryptography.exceptions import InvalidTag
from google.protobuf import json_format
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload

from contracts.visibility import SEARCH_ATTRIBUTES_PATCH
from tests.conftest import Stack
from tests.helpers import admin_token, bearer, borrower_token
from tests.origination_steps import application_body, apply, lending_product, wait_status
from workflows.loan_application import LOCAL_STEPS_PATCH, ORIGINATION_BUNDLE, PAYOUT_RECONCILIATION_PATCH
from workflows.payload_codec import ENCODING, EncryptionCodec, UnknownPayloadKey
from workflows.queues import FAMILY_QUEUES

REASON = "moving abroad, call me on my sister's line"


def payloads_in(message: Message, *, search_attributes: bool = False, inside: bool = False) -> Iterator[Payload]:
    """Every Payload anywhere inside a history (inputs, results, headers, signals, updates, memos...); with
    `search_attributes`, only the search attributes' values instead: the server indexes those, so it must read them
    and they are not encrypted (contracts/visibility.py keeps them to ids and statuses)."""
    if isinstance(message, Payload):
        if inside == search_attributes:
            yield message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        within = inside or field.message_type.name == "SearchAttributes"
        if field.message_type.GetOptions().map_entry:
            items = list(value.values())
        elif isinstance(value, Message):
            items = [value]
        else:
            items = list(value)  # a repeated field
        for item in items:
            if isinstance(item, Message):
                yield from payloads_in(item, search_attributes=search_attributes, inside=within)


async def test_a_history_read_from_the_server_holds_no_personal_data(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    product_id = await lending_product(http, admin)
    phone = "+447700966001"
    token = await borrower_token(http, phone)
    body = application_body(product_id, phone, national_id="ZX998877")
    body["applicant"]["full_name"] = "Mariam Quasimodo"
    created = await apply(http, token, body)
    await wait_status(http, token, created["id"], "offered")
    cancelled = await http.post(
        f"/v1/applications/{created['id']}/cancel", json={"reason": REASON}, headers=bearer(token)
    )
    assert cancelled.status_code == 200, cancelled.text
    history = await clean.temporal.get_workflow_handle(f"loan-application-{created['id']}").fetch_history()
    found = [p for event in history.events for p in payloads_in(event)]
    assert len(found) > 5
    # The payloads left in clear are the SDK's own: a patch marker names the patch (`search-attributes`), a local
    # activity's marker its type and attempt, nothing of anyone's. Everything else, local results too, is ciphertext.
    plain = [
        (event.event_type, p.data[:60])
        for event in history.events
        for p in payloads_in(event)
        if p.metadata["encoding"] != ENCODING and not _names_a_patch(p)
    ]
    assert not plain, plain
    local_results = [
        p
        for event in history.events
        if event.marker_recorded_event_attributes.marker_name == "core_local_activity"
        for p in event.marker_recorded_event_attributes.details["result"].payloads
    ]
    assert local_results and all(p.metadata["encoding"] == ENCODING for p in local_results)
    raw = b"".join(event.SerializeToString() for event in history.events)
    for secret in (phone, "Mariam", "ZX998877", "moving abroad", created["id"]):
        assert secret.encode() not in b"".join(p.data for p in found), secret
    indexed = [p for event in history.events for p in payloads_in(event, search_attributes=True)]
    assert indexed, "the application's search attributes are in its history"
    for secret in (phone, "Mariam", "ZX998877", "moving abroad"):
        assert secret.encode() not in b"".join(p.data for p in indexed), secret
    assert REASON.encode() not in raw

    # The codec server shows an admin what the UI would: the payloads decoded.
    sealed = {"payloads": [json.loads(_json(p)) for p in found]}
    refused = await http.post("/codec/decode", json=sealed)
    assert refused.status_code == 401
    borrower = await http.post("/codec/decode", json=sealed, headers=bearer(token))
    assert borrower.status_code == 401
    opened = await http.post("/codec/decode", json=sealed, headers=bearer(admin))
    assert opened.status_code == 200, opened.text
    plain = b"".join(base64.b64decode(p.get("data", "")) for p in opened.json()["payloads"])
    assert REASON.encode() in plain
    assert all(base64.b64decode(p["metadata"]["encoding"]) != ENCODING for p in opened.json()["payloads"])


# What the SDK writes about a local activity beside its result (the result itself goes through the codec).
_LOCAL_ACTIVITY_MARKER_KEYS = {
    "seq",
    "attempt",
    "activity_id",
    "activity_type",
    "complete_time",
    "backoff",
    "original_schedule_time",
    "activation_index",
}


def _names_a_patch(payload: Payload) -> bool:
    """The SDK's own marker payloads, written without the codec: a patch marker (`{"id": "<patch>", "deprecated":
    false}`) or a local activity's bookkeeping (its sequence number, attempt, type and times)."""
    try:
        found = json.loads(payload.data)
    except ValueError:
        return False
    if not isinstance(found, dict):
        return False
    if found.get("id") in (
        SEARCH_ATTRIBUTES_PATCH,
        FAMILY_QUEUES,
        LOCAL_STEPS_PATCH,
        PAYOUT_RECONCILIATION_PATCH,
        ORIGINATION_BUNDLE,
    ):
        return True
    return "activity_type" in found and set(found) <= _LOCAL_ACTIVITY_MARKER_KEYS


def _json(payload: Payload) -> str:
    return json_format.MessageToJson(payload)


async def test_the_codec_server_answers_the_temporal_uis_origin_only(http: httpx.AsyncClient, clean: Stack) -> None:
    ui = clean.settings.codec_cors_origins[0]
    allowed = await http.options("/codec/decode", headers={"Origin": ui, "Access-Control-Request-Method": "POST"})
    assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == ui
    assert "x-namespace" in allowed.headers["access-control-allow-headers"]
    other = await http.options("/codec/decode", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    admin = await admin_token(http, clean.settings)
    plain = {"payloads": [{"metadata": {"encoding": base64.b64encode(b"json/plain").decode()}, "data": "e30="}]}
    sealed = await http.post("/codec/encode", json=plain, headers={**bearer(admin), "Origin": ui})
    assert sealed.status_code == 200 and sealed.headers["access-control-allow-origin"] == ui
    back = await http.post("/codec/decode", json=sealed.json(), headers=bearer(admin))
    assert back.json()["payloads"][0]["data"] == "e30="


async def test_keys_rotate_and_a_tampered_or_unknown_payload_is_refused() -> None:
    old, new = os.urandom(32), os.urandom(32)
    before = EncryptionCodec({"2026-06": old}, "2026-06")
    (sealed,) = await before.encode([Payload(metadata={"encoding": b"json/plain"}, data=b'{"phone": "+44"}')])
    after = EncryptionCodec({"2026-12": new, "2026-06": old}, "2026-12")
    (opened,) = await after.decode([sealed])
    assert opened.data == b'{"phone": "+44"}'
    (resealed,) = await after.encode([opened])
    assert resealed.metadata["encryption-key-id"] == b"2026-12"
    with pytest.raises(UnknownPayloadKey):
        await EncryptionCodec({"2026-12": new}, "2026-12").decode([sealed])
    tampered = Payload()
    tampered.CopyFrom(sealed)
    tampered.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(InvalidTag):
        await after.decode([tampered])
    relabelled = Payload()
    relabelled.CopyFrom(resealed)
    relabelled.metadata["encryption-key-id"] = b"2026-06"
    with pytest.raises(InvalidTag):
        await after.decode([relabelled])
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b"{}")
    assert (await after.decode([plain]))[0] == plain  # histories written before encryption stay readable
