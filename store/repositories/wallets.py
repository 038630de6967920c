"""Wallet types, wallets and FX rates: the configuration and registry around wallet accounts in the ledger."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts import wallet_account_code
from domain.fx import FxRate
from domain.ledger import AccountKind
from domain.wallet_rules import TransferRules
from store import ledger


@dataclass(frozen=True)
class WalletType:
    code: str
    currencies: list[str]
    rules_currency: str
    min_amount: int
    max_amount: int | None
    fee_percent: Decimal
    fee_fixed: int
    allow_negative: bool
    payouts_allowed: bool
    topups_allowed: bool

    @property
    def rules(self) -> TransferRules:
        return TransferRules(self.min_amount, self.max_amount, self.fee_percent, self.fee_fixed)


@dataclass(frozen=True)
class Wallet:
    id: uuid.UUID
    owner_id: uuid.UUID
    type_code: str
    currency: str
    account_id: int
    balance: int
    available: int


_TYPE_COLUMNS = (
    "code, currencies, rules_currency, min_amount, max_amount, fee_percent, fee_fixed, allow_negative, "
    "payouts_allowed, topups_allowed"
)


def _wallet_type(r: object) -> WalletType:
    row = r._mapping  # type: ignore[attr-defined]
    return WalletType(
        row["code"],
        list(row["currencies"]),
        row["rules_currency"].strip(),
        row["min_amount"],
        row["max_amount"],
        Decimal(row["fee_percent"]),
        row["fee_fixed"],
        row["allow_negative"],
        row["payouts_allowed"],
        row["topups_allowed"],
    )


async def put_wallet_type(session: AsyncSession, wallet_type: WalletType) -> WalletType:
    """Create or replace a type. Wallets already open follow the new negative-balance rule; making a type strict
    while one of its wallets is below zero is refused by the ledger's CHECK."""
    await session.execute(
        text(
            f"INSERT INTO wallet_types ({_TYPE_COLUMNS}, updated_at) VALUES (:code, :currencies, :rules_currency, "
            ":min_amount, :max_amount, :fee_percent, :fee_fixed, :allow_negative, :payouts_allowed, "
            ":topups_allowed, now()) ON CONFLICT (code) DO UPDATE SET currencies = excluded.currencies, "
            "rules_currency = excluded.rules_currency, min_amount = excluded.min_amount, "
            "max_amount = excluded.max_amount, fee_percent = excluded.fee_percent, fee_fixed = excluded.fee_fixed, "
            "allow_negative = excluded.allow_negative, payouts_allowed = excluded.payouts_allowed, "
            "topups_allowed = excluded.topups_allowed, updated_at = now()"
        ),
        wallet_type.__dict__,
    )
    await session.execute(
        text(
            "UPDATE accounts a SET allow_negative = :allow FROM wallets w "
            "WHERE w.account_id = a.id AND w.type_code = :code AND a.allow_negative <> :allow"
        ),
        {"allow": wallet_type.allow_negative, "code": wallet_type.code},
    )
    return wallet_type


async def wallet_type(session: AsyncSession, code: str) -> WalletType | None:
    row = (
        await session.execute(text(f"SELECT {_TYPE_COLUMNS} FROM wallet_types WHERE code = :code"), {"code": code})
    ).one_or_none()
    return None if row is None else _wallet_type(row)


async def wallet_types(session: AsyncSession) -> list[WalletType]:
    rows = await session.execute(text(f"SELECT {_TYPE_COLUMNS} FROM wallet_types ORDER BY code"))
    return [_wallet_type(r) for r in rows]


async def open_wallet(session: AsyncSession, *, owner_id: uuid.UUID, wallet_type: WalletType, currency: str) -> Wallet:
    """The owner's wallet of this type and currency, opened the first time."""
    existing = await wallet_of(session, owner_id, wallet_type.code, currency)
    if existing is not None:
        return existing
    wallet_id = uuid.uuid4()
    account_id = await ledger.open_account(
        session,
        code=wallet_account_code(wallet_id),
        owner_type="user",
        owner_id=owner_id,
        currency=currency,
        kind=AccountKind.LIABILITY,
        allow_negative=wallet_type.allow_negative,
    )
    await session.execute(
        text(
            "INSERT INTO wallets (id, owner_id, type_code, currency, account_id) "
            "VALUES (:id, :owner, :type, :currency, :account) ON CONFLICT DO NOTHING"
        ),
        {"id": wallet_id, "owner": owner_id, "type": wallet_type.code, "currency": currency, "account": account_id},
    )
    opened = await wallet_of(session, owner_id, wallet_type.code, currency)
    assert opened is not None
    return opened


_WALLET_SELECT = (
    "SELECT w.id, w.owner_id, w.type_code, w.currency, w.account_id, a.balance, a.balance - a.pending_debit AS available"
    " FROM wallets w JOIN accounts a ON a.id = w.account_id"
)


def _wallet(r: object) -> Wallet:
    row = r._mapping  # type: ignore[attr-defined]
    return Wallet(
        row["id"],
        row["owner_id"],
        row["type_code"],
        row["currency"].strip(),
        row["account_id"],
        row["balance"],
        row["available"],
    )


async def wallet_of(session: AsyncSession, owner_id: uuid.UUID, type_code: str, currency: str) -> Wallet | None:
    row = (
        await session.execute(
            text(f"{_WALLET_SELECT} WHERE w.owner_id = :owner AND w.type_code = :type AND w.currency = :currency"),
            {"owner": owner_id, "type": type_code, "currency": currency},
        )
    ).one_or_none()
    return None if row is None else _wallet(row)


async def wallet_by_id(session: AsyncSession, wallet_id: uuid.UUID) -> Wallet | None:
    row = (await session.execute(text(f"{_WALLET_SELECT} WHERE w.id = :id"), {"id": wallet_id})).one_or_none()
    return None if row is None else _wallet(row)


async def wallets_of(session: AsyncSession, owner_id: uuid.UUID) -> list[Wallet]:
    rows = await session.execute(
        text(f"{_WALLET_SELECT} WHERE w.owner_id = :owner ORDER BY w.created_at, w.id"), {"owner": owner_id}
    )
    return [_wallet(r) for r in rows]


async def wallets_by_ids(session: AsyncSession, wallet_ids: list[uuid.UUID]) -> dict[uuid.UUID, Wallet]:
    rows = await session.execute(text(f"{_WALLET_SELECT} WHERE w.id = ANY(:ids)"), {"ids": wallet_ids})
    return {w.id: w for w in map(_wallet, rows)}


async def add_fx_rate(session: AsyncSession, rate: FxRate, valid_from: datetime) -> None:
    await session.execute(
        text(
            "INSERT INTO fx_rates (base, quote, rate, valid_from) VALUES (:base, :quote, :rate, :valid_from) "
            "ON CONFLICT ON CONSTRAINT uq_fx_rates_pair_from DO UPDATE SET rate = excluded.rate"
        ),
        {"base": rate.base, "quote": rate.quote, "rate": rate.rate, "valid_from": valid_from},
    )


async def rate_in_force(session: AsyncSession, base: str, quote: str, at: datetime) -> FxRate | None:
    """The newest rate for the pair (quoted either way round) that is valid at `at`."""
    row = (
        await session.execute(
            text(
                "SELECT base, quote, rate FROM fx_rates WHERE valid_from <= :at AND "
                "((base = :b AND quote = :q) OR (base = :q AND quote = :b)) ORDER BY valid_from DESC, id DESC LIMIT 1"
            ),
            {"at": at, "b": base, "q": quote},
        )
    ).one_or_none()
    if row is None:
        return None
    rate = FxRate(row.base.strip(), row.quote.strip(), Decimal(row.rate))
    return rate if rate.base == base else rate.inverse()


async def rates_in_force(session: AsyncSession, at: datetime) -> list[tuple[FxRate, datetime]]:
    """For every pair with a rate, the newest one valid at `at` (as stored: base, quote) and since when."""
    rows = await session.execute(
        text(
            "SELECT DISTINCT ON (base, quote) base, quote, rate, valid_from FROM fx_rates WHERE valid_from <= :at"
            " ORDER BY base, quote, valid_from DESC, id DESC"
        ),
        {"at": at},
    )
    return [(FxRate(r.base.strip(), r.quote.strip(), Decimal(r.rate)), r.valid_from) for r in rows]
