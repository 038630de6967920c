"""`HoldExpiry`: what the `holds-expiry` Schedule starts every minute — void the pending holds whose time ran out,
so a reservation made with an expiry (TigerBeetle's pending timeout) never outlives it by much."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.wallets import WalletActivities
    from contracts.wallets import HoldSweep

__all__ = ["HoldExpiryWorkflow"]


@workflow.defn(name="HoldExpiry")
class HoldExpiryWorkflow:
    @workflow.run
    async def run(self, data: HoldSweep) -> int:
        return await workflow.execute_activity_method(
            WalletActivities.expire_holds,
            data,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=5),
        )
