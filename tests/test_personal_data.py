"""Personal data is sealed at rest: after a borrower's whole loan life (sign-in, application, signing, payout,
messages, a repayment), no table and no workflow history holds their phone, name, national id, e-mail, signing
code or network address in clear. Lookups are keyed digests; what must be read back is encrypted."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from sqlalchemy import text
from temporalio.client import Client
from temporalio.service import RPCError

from contracts.messaging import message_workflow_id
from contracts.origination import application_workflow_id
from contracts.servicing import loan_payment_workflow_id, loan_workflow_id
from tests.conftest import Stack
from tests.helpers import admin_token, code_in, outbox_messages
from tests.servicing_steps import funded_loan, pay

PHONE = "+447700960001"


async def _table_texts(stack: Stack) -> dict[str, str]:
    """Every row of every table, as text (bytea as latin-1), table by table."""
    found: dict[str, str] = {}
    async with stack.sessions() as session:
        tables = (
            await session.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            )
        ).scalars()
        for table in list(tables):
            rows = (await session.execute(text(f'SELECT * FROM "{table}"'))).all()
            parts = []
            for row in rows:
                for value in row:
                    parts.append(
                        bytes(value).decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
                    )
            found[table] = "\n".join(parts)
    return found


def _payload_texts(node: Any) -> list[str]:
    """Every payload in a history, decoded (payload data is base64 in the history's JSON form)."""
    texts: list[str] = []
    if isinstance(node, dict):
        if "data" in node and isinstance(node["data"], str) and "metadata" in node:
            try:
                texts.append(base64.b64decode(node["data"]).decode("utf-8", errors="replace"))
            except ValueError:
                texts.append(node["data"])
        for value in node.values():
            texts += _payload_texts(value)
    elif isinstance(node, list):
        for value in node:
            texts += _payload_texts(value)
    return texts


async def _workflow_ids(stack: Stack) -> set[str]:
    """The processes of the loan's life, by their business ids (listing is eventually consistent; these are not)."""
    async with stack.sessions() as session:
        ids = {
            application_workflow_id(str(a))
            for a in (await session.execute(text("SELECT id FROM loan_applications"))).scalars()
        }
        ids |= {loan_workflow_id(str(x)) for x in (await session.execute(text("SELECT id FROM loans"))).scalars()}
        ids |= {
            message_workflow_id(str(m))
            for m in (await session.execute(text("SELECT id FROM outbound_messages"))).scalars()
        }
        ids |= {
            loan_payment_workflow_id(str(p))
            for p in (await session.execute(text("SELECT id FROM loan_payments"))).scalars()
        }
    async for execution in stack.temporal.list_workflows():
        ids.add(execution.id)
    return ids


async def _history_texts(client: Client, workflow_ids: set[str]) -> dict[str, str]:
    found = {}
    for workflow_id in sorted(workflow_ids):
        try:
            history = await client.get_workflow_handle(workflow_id).fetch_history()
        except RPCError:
            continue  # a message handed to the provider by its activity directly has no workflow of its own
        found[workflow_id] = "\n".join(_payload_texts(history.to_json_dict()))
    return found


async def test_a_whole_loan_life_leaves_no_personal_data_in_clear(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    token, loan_id = await funded_loan(http, admin, PHONE)
    await pay(http, token, loan_id, 5_000)
    codes = [code_in(m["body"]) for m in await outbox_messages(http, PHONE) if m["purpose"] == "signing_code"]
    assert codes
    secrets = {
        "phone": PHONE,
        "phone digits": PHONE.removeprefix("+"),
        "name": "Alice Example",
        "national id": "AB123456",
        "e-mail": "alice@example.com",
        "signing code": f'"{codes[0]}"',
        "address": "127.0.0.1",
    }
    workflow_ids = await _workflow_ids(clean)
    histories = await _history_texts(clean.temporal, workflow_ids)
    assert len(histories) >= 4  # the application, the loan, the payment and messages at least
    leaks = [
        f"{what} in table {table}"
        for table, content in (await _table_texts(clean)).items()
        for what, secret in secrets.items()
        if secret in content
    ]
    leaks += [
        f"{what} in the history of {workflow}"
        for workflow, content in histories.items()
        for what, secret in secrets.items()
        if secret in content
    ]
    assert leaks == [], json.dumps(leaks, indent=1)
