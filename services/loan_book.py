"""Every change to a funded loan goes through `LoanBook.change`: record the event, ask the engine what the loan is
now, post one entry that brings the ledger there, and rewrite the projection of the coming nights that close of
business posts. Repayments, extensions, waivers, backdated corrections and write-offs are all the same move, so the
ledger can only ever differ from the engine by what close of business has not posted yet.

Runs inside the caller's transaction (an activity's), which is what makes a change and its entry one thing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts import HouseAccount
from domain.ledger import EntryDraft, Posting
from domain.lending.collections import DEFAULT_LADDER, ladder_from_stored, thresholds
from domain.lending.engine import (
    Component,
    LoanEvent,
    LoanState,
    SignedLoan,
    project_nights,
    state_as_of,
)
from domain.lending.postings import LoanLedgerAccounts, bring_to_state, posted_after, write_off_postings
from domain.lending.servicing import night_rows
from store import ledger
from store.repositories import collections, servicing
from store.repositories import wallets as wallet_store
from store.repositories.servicing import ServicedLoan, engine_events, signed_loan

PROJECTION_NIGHTS = 60
OVERPAYMENT_WALLET_TYPE = "loan_refunds"
OPEN = ("active", "overdue")


class LoanClosed(Exception):
    """The loan is repaid or written off: only a recovery can still be taken."""


@dataclass(frozen=True)
class NewEvent:
    kind: str  # repayment | extension | fee | waiver | write_off | rate_change
    reference: str  # unique: the second change with it is the first one, replayed
    value_date: date | None = None  # default: the open business date
    amount: int | None = None
    days: int | None = None
    component: str | None = None
    daily_rate: Decimal | None = None
    actor_id: uuid.UUID | None = None
    reason: str | None = None


@dataclass(frozen=True)
class Change:
    loan_id: uuid.UUID
    status: str
    entry_id: int | None
    open_date: date
    replayed: bool
    state: LoanState | None = field(default=None, repr=False)


class LoanBook:
    def __init__(self, timezone: str, projection_nights: int = PROJECTION_NIGHTS) -> None:
        self.timezone = timezone
        self._nights = projection_nights

    async def change(
        self,
        session: AsyncSession,
        loan_id: uuid.UUID,
        events: Sequence[NewEvent],
        *,
        reference: str,
        kind: str,
        cash_in: int = 0,
        metadata: dict[str, str] | None = None,
    ) -> Change:
        """Apply `events` (none: just bring the loan up to date) and post the difference. Raises
        `LoanRuleViolation` (the terms forbid it) or `LoanClosed`; the caller's transaction then rolls back."""
        await servicing.share_calendar(session)
        loan = await servicing.serviced_loan(session, loan_id, lock=True)
        if loan is None:
            raise LookupError(f"no loan {loan_id}")
        cal = await servicing.calendar(session)
        through = max(loan.accrued_through, cal.posted_through or loan.accrued_through)
        open_date = through + timedelta(days=1)
        replay = await servicing.event_by_reference(session, events[0].reference) if events else None
        if replay is not None:
            return Change(loan_id, loan.status, replay.entry_id, open_date, replayed=True)
        late_money = loan.status == "repaid" and all(e.kind == "repayment" for e in events)
        if loan.status not in OPEN and not late_money:  # money after repayment is an overpayment, kept for them
            raise LoanClosed(f"the loan is {loan.status}")
        event_ids = [
            await servicing.add_event(
                session,
                loan_id,
                kind=e.kind,
                value_date=e.value_date or open_date,
                reference=e.reference,
                amount=e.amount,
                days=e.days,
                component=e.component,
                daily_rate=e.daily_rate,
                actor_id=e.actor_id,
                reason=e.reason,
            )
            for e in events
        ]
        signed = signed_loan(loan)
        history = engine_events(await servicing.loan_events(session, loan_id))
        target = state_as_of(signed, history, open_date)  # LoanRuleViolation leaves with the transaction
        accounts = await self._accounts(session, loan, needs_wallet=target.overpayment > loan.posted.overpayment)
        postings = bring_to_state(target, loan.posted, accounts, cash_in)
        if target.status == "written_off":
            postings += write_off_postings({c: target.outstanding[c] for c in Component}, accounts)
        entry_id = None
        if postings:
            entry = await ledger.post(
                session,
                EntryDraft(
                    f"loan:{loan_id}:{reference}",
                    kind,
                    open_date,
                    tuple(_netted(postings)),
                    metadata={"loan_id": str(loan_id), **(metadata or {})},
                ),
            )
            entry_id = entry.id
            if event_ids:
                await servicing.set_event_entry(session, event_ids, entry.id)
        closed_on = (loan.closed_on or open_date) if target.status not in OPEN else None
        overdue_since = open_date - timedelta(days=target.days_past_due) if target.days_past_due else None
        await servicing.save_posted(
            session,
            loan_id,
            posted_after(target),
            accrued_through=through,
            status=target.status,
            due_date=target.due_date,
            overdue_since=overdue_since,
            extensions=target.extensions,
            closed_on=closed_on,
        )
        await self._project(session, loan, signed, history, target, open_date)
        return Change(loan_id, target.status, entry_id, open_date, replayed=False, state=target)

    async def recover(self, session: AsyncSession, loan_id: uuid.UUID, amount: int, reference: str) -> Change:
        """Money received on a written-off loan: it reduces the loss (the receivables are gone)."""
        await servicing.share_calendar(session)
        loan = await servicing.serviced_loan(session, loan_id, lock=True)
        if loan is None:
            raise LookupError(f"no loan {loan_id}")
        cal = await servicing.calendar(session)
        open_date = max(loan.accrued_through, cal.posted_through or loan.accrued_through) + timedelta(days=1)
        replay = await servicing.event_by_reference(session, reference)
        if replay is not None:
            return Change(loan_id, loan.status, replay.entry_id, open_date, replayed=True)
        event_id = await servicing.add_event(
            session, loan_id, kind="recovery", value_date=open_date, reference=reference, amount=amount
        )
        accounts = await self._accounts(session, loan, needs_wallet=False)
        entry = await ledger.post(
            session,
            EntryDraft(
                f"loan:{loan_id}:{reference}",
                "loan_recovery",
                open_date,
                (Posting(accounts.settlement, -amount, loan.currency), Posting(accounts.loss, amount, loan.currency)),
                metadata={"loan_id": str(loan_id)},
            ),
        )
        await servicing.set_event_entry(session, [event_id], entry.id)
        return Change(loan_id, loan.status, entry.id, open_date, replayed=False)

    async def project(self, session: AsyncSession, loan_id: uuid.UUID) -> None:
        """Extend a loan's projection from where it ends (close of business asks when it runs short)."""
        loan = await servicing.serviced_loan(session, loan_id, lock=True)
        if loan is None or loan.status not in OPEN or loan.projected_until is None:
            return
        signed = signed_loan(loan)
        history = engine_events(await servicing.loan_events(session, loan_id))
        start = loan.projected_until
        state = state_as_of(signed, history, start)
        rows = night_rows(
            project_nights(signed, history, start, self._nights), state.status, await self._thresholds(session, loan)
        )
        await servicing.replace_projection(session, loan_id, start, rows, start + timedelta(days=self._nights))

    async def _project(
        self,
        session: AsyncSession,
        loan: ServicedLoan,
        signed: SignedLoan,
        history: list[LoanEvent],
        target: LoanState,
        open_date: date,
    ) -> None:
        if target.status not in OPEN:
            await servicing.replace_projection(session, loan.id, open_date, [], None)
            return
        nights = project_nights(signed, history, open_date, self._nights)
        rows = night_rows(nights, target.status, await self._thresholds(session, loan))
        await servicing.replace_projection(session, loan.id, open_date, rows, open_date + timedelta(days=self._nights))

    @staticmethod
    async def _thresholds(session: AsyncSession, loan: ServicedLoan) -> frozenset[int]:
        stored = await collections.ladder(session, loan.product_id)
        return thresholds(ladder_from_stored(stored) if stored else DEFAULT_LADDER)

    async def _accounts(self, session: AsyncSession, loan: ServicedLoan, *, needs_wallet: bool) -> LoanLedgerAccounts:
        shard = ledger.house_shard(str(loan.id))
        receivable = {Component(name): int(a) for name, a in loan.accounts["receivable"].items()}
        income = {Component(name): int(a) for name, a in loan.accounts["income"].items()}
        wallet = None
        if needs_wallet:
            wallet = (await self._overpayment_wallet(session, loan)).account_id
        return LoanLedgerAccounts(
            currency=loan.currency,
            receivable=receivable,
            income=income,
            settlement=await ledger.house_account(session, HouseAccount.SETTLEMENT, loan.currency, shard),
            loss=await ledger.house_account(session, HouseAccount.LOAN_LOSS, loan.currency, shard),
            wallet=wallet,
        )

    @staticmethod
    async def _overpayment_wallet(session: AsyncSession, loan: ServicedLoan) -> wallet_store.Wallet:
        """What a borrower paid beyond the loan is owed back to them: it waits in a wallet they can pay out."""
        wallet_type = await wallet_store.wallet_type(session, OVERPAYMENT_WALLET_TYPE)
        if wallet_type is None or loan.currency not in wallet_type.currencies:
            currencies = sorted({*(wallet_type.currencies if wallet_type else []), loan.currency})
            wallet_type = await wallet_store.put_wallet_type(
                session,
                wallet_store.WalletType(
                    OVERPAYMENT_WALLET_TYPE,
                    currencies,
                    currencies[0],
                    0,
                    None,
                    Decimal(0),
                    0,
                    allow_negative=False,
                    payouts_allowed=True,
                    topups_allowed=False,
                ),
            )
        return await wallet_store.open_wallet(
            session, owner_id=loan.user_id, wallet_type=wallet_type, currency=loan.currency
        )


def _netted(postings: Sequence[Posting]) -> list[Posting]:
    """One posting per account: an entry reads better, and the ledger nets them anyway."""
    net: dict[tuple[int, str], int] = {}
    for p in postings:
        net[(p.account_id, p.currency)] = net.get((p.account_id, p.currency), 0) + p.amount
    return [Posting(account, amount, currency) for (account, currency), amount in net.items() if amount]
