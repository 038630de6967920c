"""Moving money between wallets, and crediting bonuses in bulk, through the ledger."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.wallets import (
    BonusCredit,
    BonusCreditInput,
    BonusCreditResult,
    HoldSweep,
    MoneyModel,
    WalletTransferInput,
    WalletTransferResult,
)
from domain.accounts import HouseAccount
from domain.ledger import EntryDraft, Posting, transfer
from domain.money import Money
from domain.wallet_rules import TransferRefused
from domain.wallet_transfer import TransferAccounts, plan_transfer
from services.wallet_transfers import transfer_terms
from store import ledger
from store.posting_pool import PostingPool
from store.repositories import bonus_batches
from store.repositories import wallets as wallet_store

BONUS_SLICE = 20_000  # credits per bulk posting of a stored batch


def refused(code: str, detail: str) -> ApplicationError:
    """A business refusal: final, and carrying the API's error code as its type."""
    return ApplicationError(detail, type=code, non_retryable=True)


@dataclass(frozen=True)
class _TransferPlan:
    value_date: date
    postings: tuple[Posting, ...]
    metadata: dict[str, Any]
    result: WalletTransferResult


class WalletActivities:
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], posting_pool: PostingPool | None = None
    ) -> None:
        self._sessions = session_factory
        self._postings = posting_pool

    @activity.defn(name="transfer_between_wallets")
    async def transfer_between_wallets(self, data: WalletTransferInput) -> WalletTransferResult:
        """Posts the transfer once under the key `transfer:<id>`; a retry returns what the first run posted.

        What the transfer is (wallets, rules, rate, fee) is read first; the posting is then its own transaction,
        one round trip through the posting pool. The ledger's constraints decide what the reads cannot promise
        (the funds are there, the accounts hold the currencies) at the moment of posting."""
        key = f"transfer:{data.transfer_id}"
        try:
            async with self._sessions() as session:
                plan = await self._plan(session, data, key)
                draft = EntryDraft(key, "wallet_transfer", plan.value_date, plan.postings, metadata=plan.metadata)
                if self._postings is None:
                    posted = await ledger.post(session, draft)
                    await session.commit()
                else:
                    # The reads may have opened a house account (a shard's first use): it must exist before the
                    # posting names it. The transaction ends here, before the posting waits on row locks.
                    await session.commit()
                    posted = await self._postings.post(draft)
            if posted.replayed:
                return await self._first_answer(key)
            return plan.result.model_copy(update={"entry_id": posted.id})
        except ledger.IdempotencyConflict:
            # A retry after the rate or the fee changed: the answer is what was posted the first time.
            return await self._first_answer(key)
        except ledger.InsufficientFunds as err:
            raise refused("insufficient_funds", "the wallet does not have enough available funds") from err
        except TransferRefused as err:
            raise refused(err.code, err.detail) from err

    async def _first_answer(self, key: str) -> WalletTransferResult:
        async with self._sessions() as session:
            existing = await ledger.entry_metadata(session, key)
        assert existing is not None  # the key was taken: its entry exists
        return WalletTransferResult.model_validate({**existing[1]["result"], "entry_id": existing[0]})

    async def _plan(self, session: AsyncSession, data: WalletTransferInput, key: str) -> _TransferPlan:
        now = datetime.now(UTC)
        terms = await transfer_terms(
            session,
            uuid.UUID(data.from_wallet),
            uuid.UUID(data.to_wallet),
            Money(data.amount.amount, data.amount.currency),
            data.mode,
            uuid.UUID(data.initiated_by),
            now,
        )
        amount, fee, rate = terms.amount, terms.fee, terms.rate
        shard = ledger.house_shard(key)
        accounts = TransferAccounts(
            source=terms.source.account_id,
            destination=terms.destination.account_id,
            fee_income=await ledger.house_account(session, HouseAccount.FEE_INCOME, amount.currency, shard)
            if fee.amount
            else None,
            fx_position={
                currency: await ledger.house_account(session, HouseAccount.FX_POSITION, currency, shard)
                for currency in {terms.source.currency, terms.destination.currency}
            }
            if rate is not None
            else None,
        )
        plan = plan_transfer(amount, terms.destination.currency, fee, accounts, rate)
        result = WalletTransferResult(
            id=data.transfer_id,
            entry_id=0,
            from_wallet=data.from_wallet,
            to_wallet=data.to_wallet,
            debited=MoneyModel(amount=plan.debited.amount, currency=plan.debited.currency),
            credited=MoneyModel(amount=plan.credited.amount, currency=plan.credited.currency),
            fee=MoneyModel(amount=plan.fee.amount, currency=plan.fee.currency),
            rate=None if plan.rate is None else format(plan.rate.normalize(), "f"),
        )
        metadata = {
            "mode": data.mode,
            "initiated_by": data.initiated_by,
            "reason": data.reason,
            "result": result.model_dump(exclude={"entry_id"}),
        }
        return _TransferPlan(now.date(), plan.postings, metadata, result)

    @activity.defn(name="credit_bonuses")
    async def credit_bonuses(self, data: BonusCreditInput) -> BonusCreditResult:
        """Each credit has its own key, so a retried batch skips what landed. A stored batch is posted in slices of
        `BONUS_SLICE` credits, one bulk posting (one transaction) each, with a heartbeat between them: memory and
        transaction size stay bounded at 100,000 credits, and a retry resumes by skipping what its keys find."""
        if not data.stored:
            return await self._credit_slice(data, data.credits)
        posted = replayed = total = 0
        async with self._sessions() as session:
            found = await bonus_batches.batch(session, uuid.UUID(data.batch_id))
        if found is None:
            raise refused("not_found", f"no stored bonus batch {data.batch_id}")
        for first in range(0, found.credits, BONUS_SLICE):
            async with self._sessions() as session:
                lines = await bonus_batches.batch_lines(session, found.id, first, BONUS_SLICE)
            credits = [BonusCredit(wallet_id=str(x.wallet_id), amount=x.amount, points=x.points) for x in lines]
            done = await self._credit_slice(data, credits)
            posted, replayed, total = posted + done.credited, replayed + done.replayed, total + done.total.amount
            activity.heartbeat(first + len(lines))
        return BonusCreditResult(
            batch_id=data.batch_id,
            credited=posted,
            replayed=replayed,
            total=MoneyModel(amount=total, currency=data.currency),
        )

    async def _credit_slice(self, data: BonusCreditInput, credits: list[BonusCredit]) -> BonusCreditResult:
        rate = Decimal(data.points_rate) if data.points_rate else None
        today = datetime.now(UTC).date()
        try:
            async with self._sessions.begin() as session:
                wallet_ids = [uuid.UUID(c.wallet_id) for c in credits]
                found = await wallet_store.wallets_by_ids(session, wallet_ids)
                drafts = []
                total = 0
                expense_accounts: dict[int, int] = {}
                for credit in credits:
                    target = found.get(uuid.UUID(credit.wallet_id))
                    if target is None or target.currency != data.currency:
                        raise refused(
                            "validation_error", f"wallet {credit.wallet_id} is unknown or not in {data.currency}"
                        )
                    amount = credit.amount
                    if amount is None:
                        if rate is None or credit.points is None:
                            raise refused("validation_error", "a credit needs an amount, or points and a points rate")
                        amount = int((Decimal(credit.points) * rate).to_integral_value(rounding=ROUND_HALF_EVEN))
                    if amount <= 0:
                        continue
                    key = f"bonus:{data.batch_id}:{credit.wallet_id}"
                    shard = ledger.house_shard(key)
                    if shard not in expense_accounts:
                        expense_accounts[shard] = await ledger.house_account(
                            session, HouseAccount.BONUS_EXPENSE, data.currency, shard
                        )
                    expense = expense_accounts[shard]
                    drafts.append(
                        transfer(
                            key,
                            "bonus",
                            today,
                            expense,
                            target.account_id,
                            amount,
                            data.currency,
                            batch=data.batch_id,
                            reason=data.reason,
                        )
                    )
                    total += amount
                outcome = await ledger.post_many(session, drafts)
            activity.metric_meter().create_counter("lendflow_ledger_postings", "journal entries posted").add(
                outcome.posted
            )
        except ledger.IdempotencyConflict as err:
            raise refused("conflict", str(err)) from err
        return BonusCreditResult(
            batch_id=data.batch_id,
            credited=outcome.posted,
            replayed=outcome.replayed,
            total=MoneyModel(amount=total, currency=data.currency),
        )

    @activity.defn(name="expire_holds")
    async def expire_holds(self, data: HoldSweep) -> int:
        """Voids the pending holds whose `expires_at` passed: the reserved amount becomes spendable again."""
        async with self._sessions.begin() as session:
            return await ledger.expire_holds(session, datetime.now(UTC))
