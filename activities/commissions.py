"""Commission activities: distribute a batch, close a period (freeze, statements, notices), and compute, post or
expire a recalculation. Each is one transaction (or, for notices, one keyed message per partner), so a retry
after a crash either finds the work done or does it once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.messaging import MessagingActivities
from contracts.commissions import (
    ApprovalRequest,
    CloseDueInput,
    DistributeInput,
    DistributeResult,
    PayoutsToStart,
    PeriodCloseBegun,
    PeriodCloseInput,
    RecalculationOutcome,
    RecalculationPreview,
    RecalculationRef,
)
from contracts.messaging import DeliverMessageInput
from domain.affiliate.periods import parse_period
from domain.money import Money
from services import commission_book as book
from services.wording import say_to
from store.pii import PiiCipher
from store.repositories import affiliate, commissions, messages
from store.repositories import wallet_operations as operations

NOTICES_NAMESPACE = uuid.UUID("a4c2e7f0-3b1d-4f6a-9e8c-7d5b2a1c0f93")


def _refused(kind: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


class CommissionActivities:
    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], cipher: PiiCipher, messaging: MessagingActivities
    ) -> None:
        self._sessions = session_factory
        self._cipher = cipher
        self._messaging = messaging
        self._book = book.CommissionBook()

    @staticmethod
    async def _project(session: AsyncSession, code: str) -> affiliate.Project:
        project = await affiliate.project_by_code(session, code)
        if project is None:
            raise _refused("not_found", f"no project {code!r}")
        return project

    @activity.defn(name="distribute_commissions")
    async def distribute_commissions(self, data: DistributeInput) -> DistributeResult:
        async with self._sessions.begin() as session:
            project = await self._project(session, data.project)
            before = datetime.fromisoformat(data.before) if data.before else None
            done = await self._book.distribute_batch(
                session,
                project,
                limit=data.limit,
                before=before,
                posted_period=data.posted_period,
                lanes=(data.part, data.parts),
            )
        return DistributeResult(
            events=done.events, lines=done.lines, amount=done.amount, more=done.events >= data.limit
        )

    # --- period close ---------------------------------------------------------------------------------------------

    @activity.defn(name="project_period_length")
    async def project_period_length(self, data: CloseDueInput) -> str:
        async with self._sessions.begin() as session:
            return (await self._project(session, data.project)).period

    @activity.defn(name="begin_period_close")
    async def begin_period_close(self, data: PeriodCloseInput) -> PeriodCloseBegun:
        """Freeze the period: from now on real-time credits go to the next one. Only an ended period closes."""
        async with self._sessions.begin() as session:
            project = await self._project(session, data.project)
            try:
                period = parse_period(data.period, project.period)
            except ValueError as err:
                raise _refused("validation_error", str(err)) from None
            if period.ends_at > datetime.now(UTC):
                raise _refused("conflict", f"period {period.key} has not ended yet")
            await book.lock_project(session, project.id)
            staff = uuid.UUID(data.staff_id) if data.staff_id else None
            status = await commissions.begin_close(
                session, project.id, period.key, period.starts_at, period.ends_at, staff
            )
        return PeriodCloseBegun(status=status, ends_at=period.ends_at.isoformat())

    @activity.defn(name="finish_period_close")
    async def finish_period_close(self, data: PeriodCloseInput) -> int:
        """Statements from the period's lines, then the period closed: never edited again."""
        async with self._sessions.begin() as session:
            project = await self._project(session, data.project)
            await book.lock_project(session, project.id)
            if await commissions.period_status(session, project.id, data.period) == "closed":
                return 0
            written = await commissions.write_statements(session, project.id, data.period)
            await commissions.finish_close(session, project.id, data.period)
        return written

    @activity.defn(name="notify_statements")
    async def notify_statements(self, data: PeriodCloseInput) -> int:
        """One SMS per partner with a statement; keyed by period and partner, so a retry sends nothing twice."""
        async with self._sessions.begin() as session:
            project = await self._project(session, data.project)
            recipients = await commissions.statement_recipients(session, project.id, data.period)
            phones = await _phones(session, self._cipher, [user for user, _, _ in recipients])
            created = []
            for user_id, total, currency in recipients:
                phone = phones.get(user_id)
                if phone is None:
                    continue
                body = say_to(
                    "statement_ready",
                    phone,
                    project=project.name,
                    period=data.period,
                    amount=Money(total, currency),
                )
                message_id = uuid.uuid5(NOTICES_NAMESPACE, f"{project.code}:{data.period}:{user_id}")
                created.append(
                    await messages.create_message(
                        session,
                        self._cipher,
                        channel="sms",
                        to=phone,
                        body=body,
                        purpose="commission_statement",
                        message_id=message_id,
                    )
                )
        for n, message_id in enumerate(created):
            activity.heartbeat(n)
            await self._messaging.deliver_message(DeliverMessageInput(message_id=str(message_id)))
        return len(created)

    @activity.defn(name="prepare_period_payouts")
    async def prepare_period_payouts(self, data: PeriodCloseInput) -> PayoutsToStart:
        """For a project that pays out at close: one payout operation per partner with a statement, a payout
        destination and money in the wallet (all of it), keyed by period and wallet so a retry records nothing
        new. A wallet below zero gets none."""
        async with self._sessions.begin() as session:
            project = await self._project(session, data.project)
            if not project.payouts_at_close:
                return PayoutsToStart(operation_ids=[])
            found = await commissions.payable_at_close(session, project.id, data.period, project.currency)
            ids = []
            for user_id, wallet_id, available, destination in found:
                op = await operations.record_operation(
                    session,
                    operation_id=uuid.uuid5(NOTICES_NAMESPACE, f"payout:{project.code}:{data.period}:{wallet_id}"),
                    kind="payout",
                    wallet_id=wallet_id,
                    owner_id=user_id,
                    amount=available,
                    currency=project.currency,
                    instrument=destination,
                )
                ids.append(str(op.id))
        return PayoutsToStart(operation_ids=ids)

    # --- recalculation ----------------------------------------------------------------------------------------------

    @activity.defn(name="compute_recalculation")
    async def compute_recalculation(self, data: RecalculationRef) -> RecalculationPreview:
        async with self._sessions.begin() as session:
            recalc, project, partner = await self._recalculation(session, data.recalculation_id)
            if recalc.status != "computing":
                return RecalculationPreview(
                    recalculation_id=recalc.id, status=recalc.status, events=recalc.events, total=recalc.total
                )
            found = await self._book.recompute(
                session, project, partner, recalc.valid_from, recalc.valid_to, recalc.scope
            )
            status = "previewed" if found.differences else "unchanged"
            await commissions.save_preview(session, recalc.id, found.differences, events=found.events, status=status)
            if status == "unchanged":
                await commissions.decide(session, recalc.id, status="unchanged")
        return RecalculationPreview(
            recalculation_id=recalc.id,
            status=status,
            events=found.events,
            total=sum(d.amount for d in found.differences),
        )

    @activity.defn(name="post_recalculation")
    async def post_recalculation(self, data: ApprovalRequest) -> RecalculationOutcome:
        """Recompute under the project's lock; post only if the numbers are still those previewed. When they moved
        (events arrived, other terms were recorded) the new numbers become the preview to approve."""
        async with self._sessions.begin() as session:
            recalc, project, partner = await self._recalculation(session, data.recalculation_id, lock=True)
            if recalc.status != "previewed":
                return RecalculationOutcome(
                    recalculation_id=recalc.id, status=recalc.status, total=recalc.total, entry_id=recalc.entry_id
                )
            await book.lock_project(session, project.id)
            found = await self._book.recompute(
                session, project, partner, recalc.valid_from, recalc.valid_to, recalc.scope
            )
            if found.differences != await commissions.preview_of(session, recalc.id):
                status = "previewed" if found.differences else "unchanged"
                await commissions.save_preview(
                    session, recalc.id, found.differences, events=found.events, status=status
                )
                if status == "unchanged":
                    await commissions.decide(session, recalc.id, status="unchanged")
                return RecalculationOutcome(
                    recalculation_id=recalc.id, status="changed" if found.differences else "unchanged"
                )
            entry_id, total, posted = await self._book.post_adjustments(session, project, recalc.id, found.adjustments)
            await commissions.decide(
                session,
                recalc.id,
                status="posted",
                approved_by=uuid.UUID(data.staff_id),
                entry_id=entry_id,
                posted_period=posted,
            )
        return RecalculationOutcome(recalculation_id=recalc.id, status="posted", total=total, entry_id=entry_id)

    @activity.defn(name="expire_recalculation")
    async def expire_recalculation(self, data: RecalculationRef) -> None:
        async with self._sessions.begin() as session:
            recalc = await commissions.recalculation(session, data.recalculation_id, lock=True)
            if recalc is not None and recalc.status in ("computing", "previewed"):
                await commissions.decide(session, data.recalculation_id, status="expired")

    async def _recalculation(
        self, session: AsyncSession, recalculation_id: int, *, lock: bool = False
    ) -> tuple[commissions.Recalculation, affiliate.Project, affiliate.Partner]:
        recalc = await commissions.recalculation(session, recalculation_id, lock=lock)
        if recalc is None:
            raise _refused("not_found", f"no recalculation {recalculation_id}")
        partner = await affiliate.partner(session, recalc.partner_id)
        code = await session.scalar(text("SELECT code FROM projects WHERE id = :id"), {"id": recalc.project_id})
        assert partner is not None and code is not None
        return recalc, await self._project(session, str(code)), partner


async def _phones(session: AsyncSession, cipher: PiiCipher, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = await session.execute(text("SELECT id, phone_encrypted FROM users WHERE id = ANY(:ids)"), {"ids": user_ids})
    return {user_id: cipher.decrypt(bytes(encrypted)) for user_id, encrypted in rows}
