"""Hosts the task queues named in configuration: every queue runs every workflow and activity this
codebase registers, so a deployment can split load across queues by configuration alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.close_of_business import CloseOfBusinessActivities
from activities.commissions import CommissionActivities
from activities.loan_servicing import LoanServicingActivities
from activities.messaging import MessagingActivities
from activities.origination import OriginationActivities
from activities.payments import PaymentActivities
from activities.wallets import WalletActivities
from config import Settings
from config.task_queues import Family
from contracts.servicing import LoanNotice, LoanWorkflowInput, loan_workflow_id
from contracts.visibility import attributes
from services.loan_book import LoanBook
from store.pii import PiiCipher
from store.posting_pool import PostingPool
from workers.providers_factory import Providers
from workflows.close_of_business import CobDayWorkflow, CobRunWorkflow
from workflows.commissions import (
    CommissionCloseDueWorkflow,
    CommissionDistributorWorkflow,
    CommissionPeriodWorkflow,
    CommissionRecalculationWorkflow,
)
from workflows.hold_expiry import HoldExpiryWorkflow
from workflows.loan_application import CpaPostbackWorkflow, LoanApplicationWorkflow
from workflows.loan_servicing import CollectionsWorkflow, LoanChangeWorkflow, LoanPaymentWorkflow, LoanWorkflow
from workflows.message_delivery import MessageDeliveryWorkflow
from workflows.payments import PayoutWorkflow, TopupWorkflow
from workflows.sandbox import workflow_runner
from workflows.wallet_transfer import BonusCreditWorkflow, WalletTransferWorkflow

WORKFLOWS: Sequence[type] = (
    MessageDeliveryWorkflow,
    WalletTransferWorkflow,
    BonusCreditWorkflow,
    TopupWorkflow,
    PayoutWorkflow,
    LoanApplicationWorkflow,
    CpaPostbackWorkflow,
    CobRunWorkflow,
    CobDayWorkflow,
    LoanWorkflow,
    CollectionsWorkflow,
    LoanPaymentWorkflow,
    LoanChangeWorkflow,
    CommissionDistributorWorkflow,
    CommissionPeriodWorkflow,
    CommissionCloseDueWorkflow,
    CommissionRecalculationWorkflow,
    HoldExpiryWorkflow,
)


@dataclass
class ActivityCollaborators:
    session_factory: async_sessionmaker[AsyncSession]
    cipher: PiiCipher
    providers: Providers
    # Postings that are their whole transaction go through it (one round trip each); None: inside a session.
    posting_pool: PostingPool | None = None


def loan_workflow_starter(task_queue: str) -> Any:
    """Tell a loan's workflow about a notice, starting the workflow if it is not running (signal-with-start)."""

    async def tell(client: Client, loan_id: str, notice: LoanNotice) -> None:
        await client.start_workflow(
            LoanWorkflow.run,
            LoanWorkflowInput(loan_id=loan_id),
            id=loan_workflow_id(loan_id),
            task_queue=task_queue,
            search_attributes=attributes(loan_id=loan_id),
            start_signal="notice",
            start_signal_args=[notice],
        )

    return tell


def activity_functions(
    settings: Settings, collaborators: ActivityCollaborators, client: Client | None = None
) -> list[Any]:
    messaging = MessagingActivities(
        collaborators.session_factory,
        collaborators.cipher,
        collaborators.providers.sms,
        collaborators.providers.email,
        settings.public_base_url,
    )
    wallets = WalletActivities(collaborators.session_factory, collaborators.posting_pool)
    payments = PaymentActivities(collaborators.session_factory, collaborators.providers.payments)
    providers = collaborators.providers
    book = LoanBook(settings.market_timezone)
    origination = OriginationActivities(
        collaborators.session_factory,
        collaborators.cipher,
        bureaus=providers.bureaus,
        scoring=providers.scoring,
        payments=providers.payments,
        postbacks=providers.postbacks,
        cpa_networks=settings.cpa_networks,
        code_secret=settings.jwt_secret,
        public_base_url=settings.public_base_url,
        messaging=messaging,
        book=book,
    )
    cob = CloseOfBusinessActivities(
        collaborators.session_factory,
        book,
        client,
        timezone=settings.market_timezone,
        allow_future=settings.future_cob_allowed,
        batch_size=settings.cob_batch_size,
        loan_workflow_starter=loan_workflow_starter(settings.queue_for(Family.SERVICING)),
    )
    servicing = LoanServicingActivities(
        collaborators.session_factory,
        collaborators.cipher,
        book,
        providers.payments,
        messaging,
        settings.market_timezone,
    )
    commission = CommissionActivities(collaborators.session_factory, collaborators.cipher, messaging)
    return [
        method
        for instance in (origination, commission, cob, servicing, messaging, wallets, payments)
        for method in activity_methods(instance)
    ]


def activity_methods(instance: object) -> list[Any]:
    """Every `@activity.defn` method of an activity class's instance: a new activity is registered by being
    declared, not by an edit here."""
    return [
        getattr(instance, name)
        for name in sorted(dir(type(instance)))
        if not name.startswith("_") and hasattr(getattr(type(instance), name), "__temporal_activity_definition")
    ]


def worker_tuning(settings: Settings) -> dict[str, Any]:
    """How much a worker process takes on at once, and its grace on SIGTERM: running activities get this long to
    finish (their results are recorded) before they are cancelled and retried by another worker."""
    return {
        "max_concurrent_activities": settings.worker_max_concurrent_activities,
        "max_concurrent_workflow_tasks": settings.worker_max_concurrent_workflow_tasks,
        "max_concurrent_activity_task_polls": settings.worker_activity_pollers,
        "max_concurrent_workflow_task_polls": settings.worker_workflow_pollers,
        "max_cached_workflows": settings.worker_max_cached_workflows,
        "graceful_shutdown_timeout": timedelta(seconds=settings.worker_graceful_shutdown_seconds),
    }


def bulk_tuning(settings: Settings) -> dict[str, Any]:
    """The bulk queue runs activities only, `worker_bulk_slots` at a time: a process takes no more parts than it
    can keep busy, and leaves the rest to the other processes polling the queue."""
    return {
        "max_concurrent_activities": settings.worker_bulk_slots,
        "max_concurrent_activity_task_polls": 1,
        "graceful_shutdown_timeout": timedelta(seconds=settings.worker_graceful_shutdown_seconds),
    }


def build_workers(client: Client, settings: Settings, collaborators: ActivityCollaborators) -> list[Worker]:
    activities = activity_functions(settings, collaborators, client)
    bulk = settings.queue_for(Family.BULK)
    return [
        Worker(client, task_queue=queue, activities=activities, **bulk_tuning(settings))
        if queue == bulk
        else Worker(
            client,
            task_queue=queue,
            workflows=list(WORKFLOWS),
            activities=activities,
            workflow_runner=workflow_runner(),
            **worker_tuning(settings),
        )
        for queue in settings.polled_queues
    ]


async def run_workers(workers: list[Worker]) -> None:
    await asyncio.gather(*(worker.run() for worker in workers))
