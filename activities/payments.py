"""Top-ups and payouts: the calls to the payment provider and the ledger postings around them.

Each activity is safe to run twice: provider calls carry an idempotency key derived from the operation id and the
reference the provider returns is recorded; ledger postings carry keys of their own; status changes only move
forward."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.payments import FailOperation, OperationRef, OperationResult, ProviderOutcome
from domain.accounts import HouseAccount
from domain.ledger import transfer
from providers.payments.protocol import (
    ChargeRequest,
    PaymentDeclined,
    PaymentProvider,
    PaymentProviderUnavailable,
    PayoutRequest,
)
from store import ledger
from store.repositories import wallet_operations as operations
from store.repositories import wallets as wallet_store


class PaymentActivities:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], provider: PaymentProvider) -> None:
        self._sessions = session_factory
        self._provider = provider

    async def _operation(self, session: AsyncSession, operation_id: str) -> operations.WalletOperation:
        found = await operations.operation(session, uuid.UUID(operation_id))
        if found is None:
            raise ApplicationError(f"operation {operation_id} not found", type="not_found", non_retryable=True)
        return found

    @activity.defn(name="charge_for_topup")
    async def charge_for_topup(self, data: OperationRef) -> ProviderOutcome:
        async with self._sessions.begin() as session:
            op = await self._operation(session, data.operation_id)
        if op.provider_reference is not None or op.status == "failed":
            return ProviderOutcome(status=op.status, reference=op.provider_reference, failure_code=op.failure_code)
        try:
            charged = await self._provider.charge(
                ChargeRequest(
                    amount=op.amount,
                    currency=op.currency,
                    payment_method=op.instrument,
                    idempotency_key=f"topup-{op.id}",
                    metadata={"operation_id": str(op.id), "kind": "topup"},
                )
            )
        except PaymentDeclined as declined:
            async with self._sessions.begin() as session:
                await operations.update_operation(session, op.id, status="failed", failure_code=declined.code)
            return ProviderOutcome(status="failed", failure_code=declined.code)
        except PaymentProviderUnavailable as err:
            raise ApplicationError(str(err), type="provider_unavailable") from err
        async with self._sessions.begin() as session:
            await operations.update_operation(
                session, op.id, status="processing", provider=charged.provider, provider_reference=charged.reference
            )
        return ProviderOutcome(status=charged.status, reference=charged.reference)

    @activity.defn(name="credit_topup")
    async def credit_topup(self, data: OperationRef) -> OperationResult:
        """The provider confirmed: the money is the company's now (settlement) and owed to the holder (wallet)."""
        async with self._sessions.begin() as session:
            op = await self._operation(session, data.operation_id)
            wallet = await wallet_store.wallet_by_id(session, op.wallet_id)
            assert wallet is not None
            key = f"topup:{op.id}"
            settlement = await ledger.house_account(
                session, HouseAccount.SETTLEMENT, op.currency, ledger.house_shard(key)
            )
            entry = await ledger.post(
                session,
                transfer(
                    key,
                    "topup",
                    datetime.now(UTC).date(),
                    settlement,
                    wallet.account_id,
                    op.amount,
                    op.currency,
                    operation_id=str(op.id),
                    provider_reference=op.provider_reference,
                ),
            )
            await operations.update_operation(session, op.id, status="succeeded", entry_id=entry.id)
        return OperationResult(operation_id=data.operation_id, status="succeeded", entry_id=entry.id)

    @activity.defn(name="fail_operation")
    async def fail_operation(self, data: FailOperation) -> OperationResult:
        async with self._sessions.begin() as session:
            op = await self._operation(session, data.operation_id)
            if op.hold_id is not None:
                await ledger.void_hold(session, op.hold_id)
            if op.status != "succeeded":
                await operations.update_operation(session, op.id, status="failed", failure_code=data.failure_code)
        return OperationResult(operation_id=data.operation_id, status="failed", failure_code=data.failure_code)

    @activity.defn(name="hold_for_payout")
    async def hold_for_payout(self, data: OperationRef) -> ProviderOutcome:
        """Reserve the amount in the wallet before anything is asked of the provider."""
        try:
            async with self._sessions.begin() as session:
                op = await self._operation(session, data.operation_id)
                wallet = await wallet_store.wallet_by_id(session, op.wallet_id)
                assert wallet is not None
                wallet_type = await wallet_store.wallet_type(session, wallet.type_code)
                if wallet_type is None or not wallet_type.payouts_allowed:
                    await operations.update_operation(
                        session, op.id, status="failed", failure_code="payouts_not_allowed"
                    )
                    return ProviderOutcome(status="failed", failure_code="payouts_not_allowed")
                if wallet_type.allow_negative and await ledger.spendable(session, wallet.account_id) < op.amount:
                    # A wallet that may go below zero (a clawback) still pays out only what it holds.
                    raise ledger.InsufficientFunds("the wallet does not hold the amount")
                hold = await ledger.place_hold(
                    session,
                    key=f"payout:{op.id}",
                    account_id=wallet.account_id,
                    amount=op.amount,
                    currency=op.currency,
                    metadata={"operation_id": str(op.id)},
                )
                await operations.update_operation(session, op.id, hold_id=hold.id)
        except ledger.InsufficientFunds:
            async with self._sessions.begin() as session:
                await operations.update_operation(
                    session, uuid.UUID(data.operation_id), status="failed", failure_code="insufficient_funds"
                )
            return ProviderOutcome(status="failed", failure_code="insufficient_funds")
        return ProviderOutcome(status="held")

    @activity.defn(name="request_payout")
    async def request_payout(self, data: OperationRef) -> ProviderOutcome:
        async with self._sessions.begin() as session:
            op = await self._operation(session, data.operation_id)
        if op.provider_reference is not None:
            return ProviderOutcome(status="processing", reference=op.provider_reference)
        try:
            paid = await self._provider.payout(
                PayoutRequest(
                    amount=op.amount,
                    currency=op.currency,
                    destination=op.instrument,
                    idempotency_key=f"payout-{op.id}",
                    metadata={"operation_id": str(op.id), "kind": "payout"},
                )
            )
        except PaymentDeclined as declined:
            return ProviderOutcome(status="failed", failure_code=declined.code)
        except PaymentProviderUnavailable as err:
            raise ApplicationError(str(err), type="provider_unavailable") from err
        async with self._sessions.begin() as session:
            await operations.update_operation(
                session, op.id, status="processing", provider=paid.provider, provider_reference=paid.reference
            )
        return ProviderOutcome(status="processing", reference=paid.reference)

    @activity.defn(name="resolve_unconfirmed_payout")
    async def resolve_unconfirmed_payout(self, data: OperationRef) -> ProviderOutcome:
        """The provider's callback never came: its own record decides, and a payout still pending is cancelled so
        it cannot land after the hold is released."""
        async with self._sessions.begin() as session:
            op = await self._operation(session, data.operation_id)
        if op.provider_reference is None:
            return ProviderOutcome(status="failed", failure_code="not_requested")
        try:
            found = await self._provider.payout_status(op.provider_reference)
            if found.status not in ("paid", "failed", "canceled"):
                found = await self._provider.cancel_payout(op.provider_reference)
        except PaymentDeclined as declined:
            return ProviderOutcome(status="failed", reference=op.provider_reference, failure_code=declined.code)
        except PaymentProviderUnavailable as err:
            raise ApplicationError(str(err), type="provider_unavailable") from err
        status = found.status if found.status in ("paid", "failed") else "failed"
        code = None if status == "paid" else ("not_confirmed" if found.status == "canceled" else found.status)
        return ProviderOutcome(status=status, reference=op.provider_reference, failure_code=code)

    @activity.defn(name="settle_payout")
    async def settle_payout(self, data: OperationRef) -> OperationResult:
        """The provider paid: the held amount leaves the wallet for settlement."""
        async with self._sessions.begin() as session:
            op = await self._operation(session, data.operation_id)
            assert op.hold_id is not None
            key = f"payout:{op.id}:settle"
            settlement = await ledger.house_account(
                session, HouseAccount.SETTLEMENT, op.currency, ledger.house_shard(key)
            )
            hold = await ledger.post_hold(
                session,
                op.hold_id,
                amount=op.amount,
                counter_account_id=settlement,
                key=key,
                kind="payout",
                value_date=datetime.now(UTC).date(),
                metadata={"operation_id": str(op.id)},
            )
            await operations.update_operation(session, op.id, status="succeeded", entry_id=hold.resolution_entry_id)
        return OperationResult(operation_id=data.operation_id, status="succeeded", entry_id=hold.resolution_entry_id)
