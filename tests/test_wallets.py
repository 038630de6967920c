"""Wallets: staff configure types and rates, credit bonuses in bulk; holders transfer under the type's rules."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select, text

from domain.accounts import HouseAccount
from store import ledger
from store.models import AuditRecord
from store.repositories import wallets as wallet_store
from tests.conftest import Stack
from tests.helpers import admin_token, bearer, borrower_token
from tests.test_payload_encryption import payloads_in

MAIN_TYPE = {
    "currencies": ["USD", "EUR"],
    "min": {"amount": 100, "currency": "USD"},
    "max": {"amount": 100_000, "currency": "USD"},
    "fee_percent": "1",
    "fee_fixed": {"amount": 10, "currency": "USD"},
}


async def configure(http: httpx.AsyncClient, admin: str) -> None:
    assert (await http.put("/v1/staff/wallet-types/main", json=MAIN_TYPE, headers=bearer(admin))).status_code == 200
    rate = {"base": "USD", "quote": "EUR", "rate": "0.9", "valid_from": "2020-01-01T00:00:00Z"}
    assert (await http.post("/v1/staff/fx-rates", json=rate, headers=bearer(admin))).status_code == 201


async def holder(http: httpx.AsyncClient, phone: str, currencies: tuple[str, ...] = ("USD",)) -> dict[str, Any]:
    token = await borrower_token(http, phone)
    wallets = {}
    for currency in currencies:
        opened = await http.post("/v1/wallets", json={"type": "main", "currency": currency}, headers=bearer(token))
        assert opened.status_code == 201, opened.text
        wallets[currency] = opened.json()["id"]
    user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
    return {"token": token, "wallets": wallets, "user_id": user_id}


async def fund(http: httpx.AsyncClient, admin: str, wallet_id: str, amount: int, currency: str = "USD") -> None:
    response = await http.post(
        "/v1/staff/bonus-credits",
        json={"currency": currency, "reason": "welcome bonus", "credits": [{"wallet_id": wallet_id, "amount": amount}]},
        headers=bearer(admin),
    )
    assert response.status_code == 201, response.text


async def balances(http: httpx.AsyncClient, token: str) -> dict[str, int]:
    data = (await http.get("/v1/wallets", headers=bearer(token))).json()["data"]
    return {w["currency"]: w["balance"]["amount"] for w in data}


async def ledger_is_whole(stack: Stack) -> None:
    async with stack.sessions() as s:
        assert await ledger.discrepancies(s) == []
        assert await ledger.unbalanced_entries(s) == 0


async def test_a_holder_converts_between_own_wallets_paying_the_fee(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    alice = await holder(http, "+447700900500", ("USD", "EUR"))
    await fund(http, admin, alice["wallets"]["USD"], 10_000)
    response = await http.post(
        "/v1/transfers",
        json={
            "from_wallet": alice["wallets"]["USD"],
            "to_wallet": alice["wallets"]["EUR"],
            "amount": {"amount": 1_000, "currency": "USD"},
        },
        headers=bearer(alice["token"]),
    )
    assert response.status_code == 201, response.text
    moved = response.json()
    # 1% of 1000 is 10, plus the fixed 10; 1000 USD cents at 0.9 are 900 EUR cents.
    assert moved["fee"] == {"amount": 20, "currency": "USD"}
    assert moved["debited"] == {"amount": 1_020, "currency": "USD"}
    assert moved["credited"] == {"amount": 900, "currency": "EUR"}
    assert moved["rate"] == "0.9"
    assert await balances(http, alice["token"]) == {"USD": 8_980, "EUR": 900}
    async with clean.sessions() as s:
        assert await ledger.house_balance(s, HouseAccount.FEE_INCOME, "USD") == 20
        assert await ledger.house_balance(s, HouseAccount.FX_POSITION, "USD") == 1_000
        assert await ledger.house_balance(s, HouseAccount.FX_POSITION, "EUR") == -900
    await ledger_is_whole(clean)


async def test_a_holder_pays_another_user_and_a_replay_pays_once(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    alice, bob = await holder(http, "+447700900501"), await holder(http, "+447700900502")
    await fund(http, admin, alice["wallets"]["USD"], 5_000)
    body = {
        "from_wallet": alice["wallets"]["USD"],
        "to_user": bob["user_id"],
        "amount": {"amount": 500, "currency": "USD"},
    }
    headers = {**bearer(alice["token"]), "Idempotency-Key": "pay-bob-1"}
    first = await http.post("/v1/transfers", json=body, headers=headers)
    again = await http.post("/v1/transfers", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert await balances(http, bob["token"]) == {"USD": 500}
    assert await balances(http, alice["token"]) == {"USD": 5_000 - 500 - 15}
    other = await http.post(
        "/v1/transfers", json={**body, "amount": {"amount": 600, "currency": "USD"}}, headers=headers
    )
    assert other.status_code == 409
    await ledger_is_whole(clean)


async def test_refused_transfers_change_nothing(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    alice, bob = await holder(http, "+447700900503"), await holder(http, "+447700900504")
    await fund(http, admin, alice["wallets"]["USD"], 1_000)

    async def send(amount: Any, **extra: Any) -> httpx.Response:
        body = {"from_wallet": alice["wallets"]["USD"], "to_wallet": bob["wallets"]["USD"], "amount": amount, **extra}
        return await http.post("/v1/transfers", json=body, headers=bearer(alice["token"]))

    too_much = await send({"amount": 990, "currency": "USD"})  # 990 + 1% + 10 > 1000
    assert (too_much.status_code, too_much.json()["code"]) == (422, "insufficient_funds")
    too_small = await send({"amount": 99, "currency": "USD"})
    assert (too_small.status_code, too_small.json()["code"]) == (422, "limit_exceeded")
    for bad in (
        {"amount": 10.5, "currency": "USD"},
        {"amount": "100", "currency": "USD"},
        {"amount": 100, "currency": "XXX"},
        {"amount": -5, "currency": "USD"},
    ):
        response = await send(bad)
        assert (response.status_code, response.json()["code"]) == (422, "validation_error"), bad
    stolen = await http.post(
        "/v1/transfers",
        json={
            "from_wallet": alice["wallets"]["USD"],
            "to_wallet": bob["wallets"]["USD"],
            "amount": {"amount": 100, "currency": "USD"},
        },
        headers=bearer(bob["token"]),
    )
    assert stolen.status_code == 404
    assert await balances(http, alice["token"]) == {"USD": 1_000}
    assert await balances(http, bob["token"]) == {"USD": 0}
    await ledger_is_whole(clean)


async def test_staff_move_money_between_any_wallets_with_a_reason(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    alice, bob = await holder(http, "+447700900505"), await holder(http, "+447700900506")
    await fund(http, admin, alice["wallets"]["USD"], 300)
    body = {
        "from_wallet": alice["wallets"]["USD"],
        "to_wallet": bob["wallets"]["USD"],
        "amount": {"amount": 50, "currency": "USD"},
        "reason": "correcting a duplicated bonus",
    }
    response = await http.post("/v1/staff/transfers", json=body, headers=bearer(admin))
    assert response.status_code == 201, response.text
    assert response.json()["fee"]["amount"] == 0  # staff corrections carry no fee and no minimum
    assert await balances(http, bob["token"]) == {"USD": 50}
    overdraw = await http.post(
        "/v1/staff/transfers", json={**body, "amount": {"amount": 251, "currency": "USD"}}, headers=bearer(admin)
    )
    assert overdraw.json()["code"] == "insufficient_funds"
    borrower_tries = await http.post("/v1/staff/transfers", json=body, headers=bearer(alice["token"]))
    assert borrower_tries.status_code == 403
    async with clean.sessions() as s:
        audited = await s.scalar(select(func.count()).where(AuditRecord.action == "wallet.staff_transfer"))
    assert audited == 1


async def test_bonus_points_are_credited_in_bulk_and_once(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    holders = [await holder(http, f"+44770090060{n}") for n in range(3)]
    body = {
        "currency": "USD",
        "points_rate": "2.5",
        "reason": "loyalty points",
        "credits": [{"wallet_id": h["wallets"]["USD"], "points": 100 + n} for n, h in enumerate(holders)],
    }
    headers = {**bearer(admin), "Idempotency-Key": "loyalty-2026-11"}
    first = await http.post("/v1/staff/bonus-credits", json=body, headers=headers)
    assert first.status_code == 201, first.text
    # 100, 101, 102 points at 2.5 cents: 250, 252.5 -> 252 (half-even), 255
    assert first.json()["total"] == {"amount": 757, "currency": "USD"}
    await http.post("/v1/staff/bonus-credits", json=body, headers=headers)
    assert [await balances(http, h["token"]) for h in holders] == [{"USD": 250}, {"USD": 252}, {"USD": 255}]
    async with clean.sessions() as s:
        assert await ledger.house_balance(s, HouseAccount.BONUS_EXPENSE, "USD") == -757
    await ledger_is_whole(clean)


async def test_wallet_types_are_validated_and_audited(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    for bad in (
        {**MAIN_TYPE, "max": {"amount": 50, "currency": "USD"}},
        {**MAIN_TYPE, "fee_percent": "100"},
        {**MAIN_TYPE, "fee_fixed": {"amount": 10, "currency": "EUR"}},
        {**MAIN_TYPE, "currencies": ["USD", "ABC"]},
    ):
        response = await http.put("/v1/staff/wallet-types/main", json=bad, headers=bearer(admin))
        assert response.status_code == 422, bad
    async with clean.sessions() as s:
        assert await s.scalar(text("SELECT count(*) FROM wallet_types")) == 0
    await configure(http, admin)
    async with clean.sessions() as s:
        assert await s.scalar(select(func.count()).where(AuditRecord.action == "wallet_type.put")) == 1


async def test_one_call_credits_thousands_of_wallets(http: httpx.AsyncClient, clean: Stack) -> None:
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    async with clean.sessions.begin() as s:
        # Two thousand holders, each with a USD wallet, made in three statements (the API would take minutes).
        await s.execute(
            text(
                "INSERT INTO users (id, phone_lookup, phone_encrypted, kind) SELECT gen_random_uuid(), "
                "sha256(n::text::bytea), 'x'::bytea, 'customer' FROM generate_series(1, 2000) n"
            )
        )
        await s.execute(
            text(
                "INSERT INTO accounts (code, owner_type, owner_id, currency, kind, allow_negative) "
                "SELECT 'wallet:' || id, 'user', id, 'USD', 'liability', false FROM users WHERE phone_encrypted = 'x'"
            )
        )
        await s.execute(
            text(
                "INSERT INTO wallets (id, owner_id, type_code, currency, account_id) SELECT gen_random_uuid(), "
                "owner_id, 'main', 'USD', id FROM accounts WHERE code LIKE 'wallet:%' AND owner_type = 'user'"
            )
        )
        wallet_ids = list((await s.execute(text("SELECT id FROM wallets"))).scalars())
    assert len(wallet_ids) == 2_000
    body = {
        "currency": "USD",
        "reason": "launch promotion",
        "credits": [{"wallet_id": str(w), "amount": 500} for w in wallet_ids],
    }
    headers = {**bearer(admin), "Idempotency-Key": "launch-promo"}
    response = await http.post("/v1/staff/bonus-credits", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["credited"] == 2_000
    assert response.json()["total"] == {"amount": 1_000_000, "currency": "USD"}
    async with clean.sessions() as s:
        assert await ledger.house_balance(s, HouseAccount.BONUS_EXPENSE, "USD") == -1_000_000
        held = await wallet_store.wallets_by_ids(s, wallet_ids)
    assert {w.balance for w in held.values()} == {500}
    await ledger_is_whole(clean)


async def test_a_holder_sends_money_by_phone_and_both_read_it_in_their_statements(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    alice = await holder(http, "+447700900610")
    bob = await holder(http, "+447700900611")
    await fund(http, admin, alice["wallets"]["USD"], 10_000)
    sent = await http.post(
        "/v1/transfers",
        headers=bearer(alice["token"]),
        json={
            "from_wallet": alice["wallets"]["USD"],
            "to_phone": "+44 7700 900611",
            "amount": {"amount": 2_000, "currency": "USD"},
        },
    )
    assert sent.status_code == 201, sent.text
    transfer = sent.json()
    assert transfer["to_wallet"] == bob["wallets"]["USD"]
    for reader in (alice, bob):
        read = await http.get(f"/v1/transfers/{transfer['id']}", headers=bearer(reader["token"]))
        assert read.status_code == 200 and read.json() == transfer
    stranger = await holder(http, "+447700900612")
    assert (await http.get(f"/v1/transfers/{transfer['id']}", headers=bearer(stranger["token"]))).status_code == 404
    nobody = await http.post(
        "/v1/transfers",
        headers=bearer(alice["token"]),
        json={
            "from_wallet": alice["wallets"]["USD"],
            "to_phone": "+447700900699",
            "amount": {"amount": 2_000, "currency": "USD"},
        },
    )
    assert nobody.status_code == 404

    statement = (
        await http.get(f"/v1/wallets/{alice['wallets']['USD']}/statement", headers=bearer(alice["token"]))
    ).json()
    lines = statement["data"]
    assert [line["kind"] for line in lines] == ["bonus", "wallet_transfer"]
    fee = transfer["fee"]["amount"]
    assert [line["amount"]["amount"] for line in lines] == [10_000, -(2_000 + fee)]
    assert [line["balance_after"]["amount"] for line in lines] == [10_000, 8_000 - fee]
    assert lines[1]["reference"] == f"transfer:{transfer['id']}"
    assert lines[-1]["balance_after"]["amount"] == (await balances(http, alice["token"]))["USD"]
    page = (
        await http.get(
            f"/v1/wallets/{alice['wallets']['USD']}/statement",
            params={"limit": 1, "starting_after": lines[0]["posting_id"]},
            headers=bearer(alice["token"]),
        )
    ).json()
    assert page["data"] == lines[1:] and page["has_more"] is False
    bobs = (await http.get(f"/v1/wallets/{bob['wallets']['USD']}/statement", headers=bearer(bob["token"]))).json()
    assert [line["balance_after"]["amount"] for line in bobs["data"]] == [2_000]
    foreign = await http.get(f"/v1/wallets/{bob['wallets']['USD']}/statement", headers=bearer(alice["token"]))
    assert foreign.status_code == 404

    rates = (await http.get("/v1/fx-rates", headers=bearer(alice["token"]))).json()["data"]
    assert [(r["base"], r["quote"], r["rate"]) for r in rates] == [("USD", "EUR", "0.9")]


async def test_a_transfer_retried_after_its_answer_was_lost_answers_the_same_transfer(
    http: httpx.AsyncClient, clean: Stack
) -> None:
    """The API died after the transfer's workflow finished but before it stored its answer: the retried key reads
    the finished workflow's result (typed), answers it, and moves no money twice."""
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    alice = await holder(http, "+447700900620", ("USD", "EUR"))
    await fund(http, admin, alice["wallets"]["USD"], 10_000)
    body = {
        "from_wallet": alice["wallets"]["USD"],
        "to_wallet": alice["wallets"]["EUR"],
        "amount": {"amount": 1_000, "currency": "USD"},
    }
    headers = bearer(alice["token"]) | {"Idempotency-Key": "lost-answer-1"}
    first = await http.post("/v1/transfers", json=body, headers=headers)
    assert first.status_code == 201, first.text
    async with clean.sessions.begin() as s:
        await s.execute(text("DELETE FROM idempotent_requests"))  # the answer never got stored
    again = await http.post("/v1/transfers", json=body, headers=headers)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    debited = first.json()["debited"]["amount"]
    assert await balances(http, alice["token"]) == {"USD": 10_000 - debited, "EUR": 900}  # moved once


@pytest.mark.slow
async def test_a_batch_of_100_000_credits_travels_by_reference(http: httpx.AsyncClient, clean: Stack) -> None:
    """The API's largest batch: stored, its workflow given only the id (an input carrying 100,000 credits would be
    about 8 MB, four times Temporal's payload limit), posted in slices, every wallet credited once."""
    admin = await admin_token(http, clean.settings)
    await configure(http, admin)
    count = 100_000
    async with clean.sessions.begin() as s:
        await s.execute(
            text(
                "INSERT INTO users (id, phone_lookup, phone_encrypted, kind) SELECT gen_random_uuid(), "
                "sha256(('big' || n)::bytea), 'y'::bytea, 'customer' FROM generate_series(1, :n) n"
            ),
            {"n": count},
        )
        await s.execute(
            text(
                "INSERT INTO accounts (code, owner_type, owner_id, currency, kind, allow_negative) "
                "SELECT 'wallet:' || id, 'user', id, 'USD', 'liability', false FROM users WHERE phone_encrypted = 'y'"
            )
        )
        await s.execute(
            text(
                "INSERT INTO wallets (id, owner_id, type_code, currency, account_id) SELECT gen_random_uuid(), "
                "owner_id, 'main', 'USD', id FROM accounts WHERE code LIKE 'wallet:%' AND owner_type = 'user'"
            )
        )
        wallet_ids = list((await s.execute(text("SELECT id FROM wallets"))).scalars())
    assert len(wallet_ids) == count
    body = {
        "currency": "USD",
        "reason": "anniversary",
        "credits": [{"wallet_id": str(w), "amount": 100 + n % 7} for n, w in enumerate(wallet_ids)],
    }
    headers = {**bearer(admin), "Idempotency-Key": "anniversary"}
    response = await http.post("/v1/staff/bonus-credits", json=body, headers=headers, timeout=600)
    assert response.status_code == 201, response.text
    expected = sum(100 + n % 7 for n in range(count))
    assert response.json()["credited"] == count and response.json()["total"]["amount"] == expected
    history = await clean.temporal.get_workflow_handle(f"bonus-credit-{response.json()['batch_id']}").fetch_history()
    largest = max(len(p.data) for event in history.events for p in payloads_in(event))
    assert largest < 4_096, largest  # the input and every argument stay small
    again = await http.post("/v1/staff/bonus-credits", json=body, headers=headers, timeout=600)
    assert again.json() == response.json()
    async with clean.sessions() as s:
        assert await ledger.house_balance(s, HouseAccount.BONUS_EXPENSE, "USD") == -expected
    await ledger_is_whole(clean)
