"""Workflow histories recorded from earlier code replay on the current code (temporalio's `Replayer`): a change
to a workflow that would break the processes running in production fails here first. docs/operations.md says how
to ship a change that is not replay-compatible (a `workflow.patched` marker).

`LENDFLOW_RECORD_HISTORIES=1 pytest tests/test_replay.py` records the histories of one life of each long-running
process into tests/histories/ from the code as it is (commit them with the change that makes them);
`LENDFLOW_RECORD_SUFFIX=-parts` names them `<type>-parts.json`, beside the older ones, which keep replaying."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from config import Settings
from tests.affiliate_steps import deposit, partner_line
from tests.conftest import Stack
from tests.helpers import admin_token, bearer
from tests.servicing_steps import close_through, funded_loan, open_date, pay
from tests.test_wallets import configure, fund, holder
from workers.runner import WORKFLOWS
from workflows.client import data_converter
from workflows.sandbox import workflow_runner

HISTORIES = Path(__file__).resolve().parent / "histories"
RECORDING = os.environ.get("LENDFLOW_RECORD_HISTORIES") == "1"


def recorded() -> list[tuple[str, dict[str, object]]]:
    return [(path.stem, json.loads(path.read_text())) for path in sorted(HISTORIES.glob("*.json"))]


@pytest.mark.skipif(not RECORDING, reason="records only when LENDFLOW_RECORD_HISTORIES=1")
async def test_record_the_histories_of_a_loan_and_a_wallet_life(http: httpx.AsyncClient, clean: Stack) -> None:
    from datetime import timedelta

    admin = await admin_token(http, clean.settings)
    token, loan_id = await funded_loan(http, admin, "+447700970001")
    await pay(http, token, loan_id, 5_000)
    await close_through(http, admin, await open_date(http, admin) + timedelta(days=3))
    await configure(http, admin)
    alice = await holder(http, "+447700970002", ("USD", "EUR"))
    await fund(http, admin, alice["wallets"]["USD"], 10_000)
    moved = await http.post(
        "/v1/transfers",
        headers=bearer(alice["token"]),
        json={
            "from_wallet": alice["wallets"]["USD"],
            "to_wallet": alice["wallets"]["EUR"],
            "amount": {"amount": 1_000, "currency": "USD"},
        },
    )
    assert moved.status_code == 201, moved.text
    wallet = alice["wallets"]["USD"]
    topup = await http.post(
        "/v1/topups",
        headers=bearer(alice["token"]),
        json={"wallet": wallet, "amount": {"amount": 2_000, "currency": "USD"}, "payment_method": "pm_card_visa"},
    )
    payout = await http.post(
        "/v1/payouts",
        headers=bearer(alice["token"]),
        json={"wallet": wallet, "amount": {"amount": 1_000, "currency": "USD"}, "destination": "ba_alice"},
    )
    assert (topup.status_code, payout.status_code) == (201, 201), (topup.text, payout.text)
    await clean.payments.drain()
    partners = await partner_line(http, admin, "record-eu", ["+447700970010", "+447700970011"])
    await deposit(http, "record-eu", "rec-1", partners[-1]["referral_code"], "20.00")
    await asyncio.sleep(1)  # the provider's callbacks settle both; the distributor takes the deposit
    HISTORIES.mkdir(exist_ok=True)
    kept: dict[str, int] = {}
    async for execution in clean.temporal.list_workflows():
        kind = execution.workflow_type
        if kept.get(kind, 0) >= 1:
            continue
        history = await clean.temporal.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        suffix = os.environ.get("LENDFLOW_RECORD_SUFFIX", "")
        (HISTORIES / f"{kind}{suffix}.json").write_text(json.dumps(history.to_json_dict()))
        kept[kind] = kept.get(kind, 0) + 1
    assert {"LoanApplication", "Loan", "LoanPayment", "WalletTransfer", "Topup", "Payout"} <= set(kept), kept


@pytest.mark.parametrize(("name", "events"), recorded(), ids=[name for name, _ in recorded()])
async def test_a_recorded_history_replays_on_the_current_code(name: str, events: dict[str, object]) -> None:
    history = WorkflowHistory.from_json(name, events)
    replayer = Replayer(
        workflows=list(WORKFLOWS), data_converter=data_converter(Settings()), workflow_runner=workflow_runner()
    )
    await replayer.replay_workflow(history)
