"""Close of business for one business date, in steps a workflow runs in order, each safe to run again:
begin (dates close in order, once), extend projections that run short, post the night's accruals set-based in
batches, tell loans' workflows what the new day means for them, record the daily report, finish.

The batch steps heartbeat their cursor, so a worker killed halfway resumes where the last committed batch ended
(and a batch that did commit is skipped anyway: its loans are past the date)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from contracts.servicing import (
    CobBegun,
    CobDates,
    CobDay,
    CobFinish,
    CobProgress,
    CobRange,
    CobUntil,
    LoanNotice,
    NoticeKind,
)
from domain.lending.servicing import dates_to_close
from services.loan_book import LoanBook
from store import ledger
from store.repositories import reports, servicing
from store.repositories.servicing import FULL_RANGE

PROJECTION_BATCH = 200
NOTIFY_CONCURRENCY = 32


class CloseOfBusinessActivities:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        book: LoanBook,
        client: Client | None,
        *,
        timezone: str,
        allow_future: bool,
        batch_size: int = 5_000,
        loan_workflow_starter: Any = None,
    ) -> None:
        self._sessions = session_factory
        self._book = book
        self._client = client
        self._tz = ZoneInfo(timezone)
        self._allow_future = allow_future
        self._batch = batch_size
        self._start_loan_workflow = loan_workflow_starter

    def _today(self) -> date:
        return datetime.now(self._tz).date()

    @activity.defn(name="cob_dates")
    async def cob_dates(self, data: CobUntil) -> CobDates:
        """The dates a run must close, in order: from the first not closed through `until` (default: yesterday in
        the market's time zone). A date that has not ended yet is refused outside development and tests."""
        until = data.until if data.until else self._today() - timedelta(days=1)
        if until >= self._today() and not self._allow_future:
            raise ApplicationError(
                f"{until} has not ended yet in the market's time zone", type="validation_error", non_retryable=True
            )
        async with self._sessions() as session:
            cal = await servicing.calendar(session)
            first = await servicing.first_loan_start(session)
        # A run that stopped halfway (or is still going) is finished first: its date is the first to close.
        last = cal.running - timedelta(days=1) if cal.running is not None and cal.running <= until else cal.last_closed
        dates = dates_to_close(last, until, first or until)
        return CobDates(dates=dates)

    @activity.defn(name="cob_begin")
    async def cob_begin(self, data: CobDay) -> CobBegun:
        day = data.business_date
        async with self._sessions.begin() as session:
            # Exclusive: every loan change in flight finishes first, and every later one sees the date running.
            await servicing.own_calendar(session)
            cal = await servicing.calendar(session)
            if cal.last_closed is not None and day <= cal.last_closed:
                return CobBegun(status="closed")
            if cal.running is not None and cal.running != day:
                raise ApplicationError(
                    f"close of business for {cal.running} is not finished", type="conflict", non_retryable=True
                )
            if cal.last_closed is not None and day != cal.last_closed + timedelta(days=1):
                raise ApplicationError(
                    f"{cal.last_closed + timedelta(days=1)} must be closed before {day}",
                    type="conflict",
                    non_retryable=True,
                )
            status = await servicing.begin_cob(session, day, data.workflow_id)
        return CobBegun(status=status)

    @activity.defn(name="cob_project")
    async def cob_project(self, data: CobDay) -> int:
        """Loans whose projection ends before the night are projected further (in Python, a few per day)."""
        return await self._project(data.business_date, FULL_RANGE)

    @activity.defn(name="cob_project_range")
    async def cob_project_range(self, data: CobRange) -> int:
        """The same for one range of loan ids (the date's close runs its ranges on the bulk queue)."""
        return await self._project(data.business_date, _ids(data))

    async def _project(self, day: date, ids: tuple[uuid.UUID, uuid.UUID]) -> int:
        done = 0
        while True:
            async with self._sessions() as session:
                batch = await servicing.loans_to_project(session, day, PROJECTION_BATCH, ids)
            if not batch:
                return done
            for loan_id in batch:
                async with self._sessions.begin() as session:
                    await servicing.share_calendar(session)
                    await self._book.project(session, loan_id)
            done += len(batch)
            activity.heartbeat(done)

    @activity.defn(name="cob_accrue")
    async def cob_accrue(self, data: CobDay) -> CobProgress:
        """The night's accruals, a batch of loans per statement and per transaction."""
        return await self._accrue(data.business_date, FULL_RANGE, side_by_side=False)

    @activity.defn(name="cob_accrue_range")
    async def cob_accrue_range(self, data: CobRange) -> CobProgress:
        """The night's accruals of one range of loan ids; ranges run side by side, each adding to the tally."""
        return await self._accrue(data.business_date, _ids(data), side_by_side=True)

    async def _accrue(self, day: date, ids: tuple[uuid.UUID, uuid.UUID], *, side_by_side: bool) -> CobProgress:
        details = activity.info().heartbeat_details
        # From the heartbeat's cursor when resumed, else from the range's start (not the first id: a range that
        # began below its own would take its neighbours' loans and wait on their locks).
        after, loans, entries = (uuid.UUID(details[0]), int(details[1]), int(details[2])) if details else (ids[0], 0, 0)
        while True:
            async with self._sessions.begin() as session:
                driver = await ledger.driver_of(session)
                batch = await servicing.accrue_batch(driver, day, after, self._batch, ids[1])
                if batch.last_loan_id is not None:
                    # The tally staff watch (the console's progress bar), in the batch's own transaction.
                    if side_by_side:
                        await servicing.add_accrual_progress(driver, day, ids[1], batch.loans)
                    else:
                        await servicing.accrual_progress(driver, day, loans + batch.loans)
            if batch.last_loan_id is None:
                return CobProgress(loans=loans, entries=entries)
            after, loans, entries = batch.last_loan_id, loans + batch.loans, entries + batch.entries
            activity.heartbeat(str(after), loans, entries)
            # Loans per second on the workers' metrics (`lendflow_cob_loans_accrued` on the SDK's exporter).
            meter = activity.metric_meter()
            meter.create_counter("lendflow_cob_loans_accrued", "loans accrued by close of business").add(batch.loans)
            meter.create_counter("lendflow_ledger_postings", "journal entries posted").add(batch.entries)

    @activity.defn(name="cob_notify")
    async def cob_notify(self, data: CobDay) -> int:
        """Each loan the new day concerns hears it on its own workflow (started if it is not running)."""
        day = data.business_date
        async with self._sessions() as session:
            notices = await servicing.notices_for(session, day)
            promises = await servicing.promises_due(session, day)
        told = [(loan_id, notice) for loan_id, notice in notices]
        told += [
            (loan_id, LoanNotice.of(day, NoticeKind.PROMISE_DUE, promise_id).notice) for loan_id, promise_id in promises
        ]
        start = int(activity.info().heartbeat_details[0]) if activity.info().heartbeat_details else 0
        gate = asyncio.Semaphore(NOTIFY_CONCURRENCY)

        async def tell(loan_id: uuid.UUID, notice: str) -> None:
            async with gate:
                await self._signal(loan_id, LoanNotice(business_date=data.business_date, notice=notice))

        step = 500
        for offset in range(start, len(told), step):
            await asyncio.gather(*(tell(loan_id, notice) for loan_id, notice in told[offset : offset + step]))
            activity.heartbeat(offset + step)
        return len(told)

    async def _signal(self, loan_id: uuid.UUID, notice: LoanNotice) -> None:
        if self._start_loan_workflow is None or self._client is None:
            return
        try:
            await self._start_loan_workflow(self._client, str(loan_id), notice)
        except RPCError as err:  # a loan workflow that cannot be reached now is told on the activity's retry
            raise ApplicationError(f"could not notify loan {loan_id}: {err}") from err

    @activity.defn(name="cob_snapshot")
    async def cob_snapshot(self, data: CobDay) -> None:
        day = data.business_date
        async with self._sessions.begin() as session:
            figures = await reports.daily(session, day)
            await reports.save_daily(session, day, figures)

    @activity.defn(name="cob_finish")
    async def cob_finish(self, data: CobFinish) -> None:
        async with self._sessions.begin() as session:
            await servicing.finish_cob(
                session,
                data.business_date,
                loans_accrued=data.loans_accrued,
                projections_refreshed=data.projections_refreshed,
                notices=data.notices,
            )


def _ids(data: CobRange) -> tuple[uuid.UUID, uuid.UUID]:
    return uuid.UUID(data.after), uuid.UUID(data.through)
