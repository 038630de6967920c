"""Wallet transfers and bonus credits: each a short workflow around one idempotent ledger activity, so the API
never writes money itself and a retried request (same workflow id) can only ever post once."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.wallets import WalletActivities
    from contracts.wallets import (
        BonusCreditInput,
        BonusCreditResult,
        WalletTransferInput,
        WalletTransferResult,
    )

# The models are the workflows' contract, re-exported for callers (the API may not import activities).
__all__ = ["BonusCreditWorkflow", "WalletTransferWorkflow"]

# Business refusals: retrying cannot change the answer.
REFUSALS = ["insufficient_funds", "limit_exceeded", "validation_error", "not_found", "forbidden", "conflict"]
LEDGER_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=10,
    non_retryable_error_types=REFUSALS,
)


@workflow.defn(name="WalletTransfer")
class WalletTransferWorkflow:
    @workflow.run
    async def run(self, data: WalletTransferInput) -> WalletTransferResult:
        return await workflow.execute_activity_method(
            WalletActivities.transfer_between_wallets,
            data,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=LEDGER_RETRY,
        )


@workflow.defn(name="BonusCredit")
class BonusCreditWorkflow:
    @workflow.run
    async def run(self, data: BonusCreditInput) -> BonusCreditResult:
        return await workflow.execute_activity_method(
            WalletActivities.credit_bonuses,
            data,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=LEDGER_RETRY,
        )
