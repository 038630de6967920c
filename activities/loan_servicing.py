"""A funded loan's own steps: reminders, card payments (repayments, extensions, automatic debits) applied through
the loan book, and the collections ladder's actions. Every activity is safe to run twice: messages have
deterministic ids, provider calls carry idempotency keys, loan changes carry references the book takes once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.messaging import MessagingActivities
from contracts.messaging import DeliverMessageInput
from contracts.servicing import (
    CollectionsState,
    DebitResult,
    FailPayment,
    LoanChangeInput,
    LoanChangeResult,
    LoanNotice,
    LoanRef,
    LoanSettled,
    PaymentOutcome,
    PaymentRef,
    PaymentResult,
    PromiseCheck,
    PromiseOutcome,
    Reminder,
    StepInput,
    StepResult,
)
from domain.lending.collections import (
    DEFAULT_LADDER,
    Action,
    LadderStep,
    debit_amount,
    ladder_from_stored,
    may_debit_again,
    promise_kept,
    steps_due,
)
from domain.lending.engine import LoanRuleViolation, extension_quote
from domain.lending.products import terms_from_stored
from domain.money import Money
from providers.payments.protocol import ChargeRequest, PaymentDeclined, PaymentProvider, PaymentProviderUnavailable
from services.loan_book import Change, LoanBook, LoanClosed, NewEvent
from services.wording import say_to
from store import ledger
from store.pii import PiiCipher
from store.repositories import applications, collections, loan_payments, loans, messages, servicing
from store.repositories.audit import Actor, AuditContext, AuditEntry, record_audit
from store.repositories.servicing import ServicedLoan, engine_events, open_business_date, signed_loan

MESSAGES_NAMESPACE = uuid.UUID("5d0e9c1a-6b7f-4e2d-8c3a-1f4b2a9e7d60")


async def owed_now(session: AsyncSession, loan: ServicedLoan) -> int:
    """What the ledger says the borrower owes (the receivables' balances; assets are negative when owed)."""
    accounts = [int(a) for a in loan.accounts["receivable"].values()]
    found = await ledger.balances(session, accounts)
    return -sum(found[a].balance for a in accounts)


def _not_found(what: str) -> ApplicationError:
    return ApplicationError(f"{what} not found", type="not_found", non_retryable=True)


class LoanServicingActivities:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        cipher: PiiCipher,
        book: LoanBook,
        payments: PaymentProvider,
        messaging: MessagingActivities,
        timezone: str,
    ) -> None:
        self._sessions = session_factory
        self._cipher = cipher
        self._book = book
        self._payments = payments
        self._messaging = messaging
        self._tz = timezone

    async def _loan(self, session: AsyncSession, loan_id: str) -> ServicedLoan:
        found = await servicing.serviced_loan(session, uuid.UUID(loan_id))
        if found is None:
            raise _not_found(f"loan {loan_id}")
        return found

    # --- messages ---------------------------------------------------------------------------------------------

    async def _tell(
        self,
        session: AsyncSession,
        loan: ServicedLoan,
        template: str,
        key: str,
        *,
        email: bool = True,
        **values: object,
    ) -> list[uuid.UUID]:
        row = await loans.loan(session, loan.id)
        assert row is not None
        person = await applications.applicant(session, self._cipher, row.application_id)
        body = say_to(template, person.phone, **values)
        ids = [
            await messages.create_message(
                session,
                self._cipher,
                channel="sms",
                to=person.phone,
                body=body,
                purpose=f"loan_{template}",
                message_id=uuid.uuid5(MESSAGES_NAMESPACE, f"{key}:sms"),
            )
        ]
        if email and person.email:
            ids.append(
                await messages.create_message(
                    session,
                    self._cipher,
                    channel="email",
                    to=person.email,
                    body=body,
                    purpose=f"loan_{template}",
                    subject="About your loan",
                    message_id=uuid.uuid5(MESSAGES_NAMESPACE, f"{key}:email"),
                )
            )
        return ids

    async def _deliver(self, message_ids: list[uuid.UUID]) -> None:
        for message_id in message_ids:
            await self._messaging.deliver_message(DeliverMessageInput(message_id=str(message_id)))

    @activity.defn(name="remind_borrower")
    async def remind_borrower(self, data: Reminder) -> int:
        async with self._sessions.begin() as session:
            loan = await self._loan(session, data.loan_id)
            if loan.status not in ("active", "overdue"):
                return 0
            owed = await owed_now(session, loan)
            notice = LoanNotice(business_date=data.business_date, notice=data.notice)
            ids = await self._tell(
                session,
                loan,
                notice.kind.value,
                f"{loan.id}:{data.notice}:{data.business_date}",
                amount=Money(owed, loan.currency),
                due_date=loan.due_date,
                days=notice.days_past_due,
            )
        await self._deliver(ids)
        return len(ids)

    @activity.defn(name="loan_status")
    async def loan_status(self, data: LoanRef) -> LoanSettled:
        async with self._sessions() as session:
            return LoanSettled(status=(await self._loan(session, data.loan_id)).status)

    # --- card payments ------------------------------------------------------------------------------------------

    async def _payment(self, session: AsyncSession, payment_id: str) -> loan_payments.LoanPayment:
        found = await loan_payments.payment(session, uuid.UUID(payment_id))
        if found is None:
            raise _not_found(f"payment {payment_id}")
        return found

    @activity.defn(name="charge_loan_payment")
    async def charge_loan_payment(self, data: PaymentRef) -> PaymentOutcome:
        async with self._sessions() as session:
            payment = await self._payment(session, data.payment_id)
        if payment.status in ("succeeded", "failed") or payment.provider_reference is not None:
            return PaymentOutcome(
                status="failed" if payment.status == "failed" else "succeeded",
                reference=payment.provider_reference,
                failure_code=payment.failure_code,
            )
        try:
            charged = await self._payments.charge(
                ChargeRequest(
                    amount=payment.amount,
                    currency=payment.currency,
                    payment_method=payment.payment_method,
                    idempotency_key=f"loan-payment-{payment.id}",
                    customer_reference=payment.customer_reference,
                    metadata={"kind": "loan_payment", "payment_id": str(payment.id), "loan_id": str(payment.loan_id)},
                )
            )
        except PaymentDeclined as declined:
            return PaymentOutcome(status="failed", failure_code=declined.code)
        except PaymentProviderUnavailable as err:
            raise ApplicationError(str(err), type="provider_unavailable") from err
        async with self._sessions.begin() as session:
            await loan_payments.update_payment(
                session, payment.id, status="processing", provider_reference=charged.reference
            )
        return PaymentOutcome(status=charged.status, reference=charged.reference)

    @activity.defn(name="apply_loan_payment")
    async def apply_loan_payment(self, data: PaymentRef) -> PaymentResult:
        """The provider confirmed: the money is applied to the loan by the engine's waterfall (an extension's price
        first buys the extension), or to the loss account of a written-off loan. An extension the terms no longer
        allow (the price moved, the limit was reached meanwhile) does not lose the money: it repays the loan."""
        note = None
        try:
            payment, change = await self._apply(data.payment_id, as_extension=True)
        except LoanRuleViolation as refused:
            note = str(refused)
            payment, change = await self._apply(data.payment_id, as_extension=False)
        async with self._sessions.begin() as session:
            await loan_payments.update_payment(
                session,
                payment.id,
                status="succeeded",
                value_date=change.open_date,
                failure_code="extension_refused" if note else None,
            )
            loan = await self._loan(session, str(payment.loan_id))
            owed = await owed_now(session, loan)
            extended = payment.purpose == "extension" and note is None
            template = "repaid" if loan.status == "repaid" else "extended" if extended else "payment_received"
            ids = await self._tell(
                session,
                loan,
                template,
                f"{payment.id}:applied",
                email=template == "repaid",
                amount=Money(payment.amount, loan.currency),
                owed=Money(owed, loan.currency),
                due_date=loan.due_date,
            )
        await self._deliver(ids)
        return PaymentResult(
            payment_id=data.payment_id,
            loan_id=str(payment.loan_id),
            status="succeeded",
            loan_status=loan.status,
            failure_code="extension_refused" if note else None,
        )

    async def _apply(self, payment_id: str, *, as_extension: bool) -> tuple[loan_payments.LoanPayment, Change]:
        async with self._sessions.begin() as session:
            payment = await self._payment(session, payment_id)
            reference = f"payment:{payment.id}"
            loan = await self._loan(session, str(payment.loan_id))
            if loan.status == "written_off":
                return payment, await self._book.recover(session, loan.id, payment.amount, reference)
            events = (
                await self._payment_events(session, loan, payment, reference)
                if as_extension
                else [NewEvent("repayment", reference, amount=payment.amount)]
            )
            change = await self._book.change(
                session,
                loan.id,
                events,
                reference=reference,
                # A refused extension's money is a plain repayment in the books (and not an extension in the view).
                kind=f"loan_{payment.purpose}" if as_extension else "loan_repayment",
                cash_in=payment.amount,
                metadata={"payment_id": str(payment.id)},
            )
            return payment, change

    async def _payment_events(
        self, session: AsyncSession, loan: ServicedLoan, payment: loan_payments.LoanPayment, reference: str
    ) -> list[NewEvent]:
        if payment.purpose != "extension" or payment.extension_days is None:
            return [NewEvent("repayment", reference, amount=payment.amount)]
        signed = signed_loan(loan)
        history = engine_events(await servicing.loan_events(session, loan.id))
        today = await open_business_date(session, self._tz)
        fee, _, pay_first = extension_quote(signed, history, today, payment.extension_days)
        first = payment.amount - fee
        if first < pay_first:  # charges grew since the quote (a night passed): the price is no longer covered
            raise LoanRuleViolation("the payment no longer covers the extension's price")
        before = [NewEvent("repayment", f"{reference}:before", amount=first)] if first else []
        return [
            *before,
            NewEvent("extension", f"{reference}:extension", days=payment.extension_days),
            NewEvent("repayment", reference, amount=fee),
        ]

    @activity.defn(name="fail_loan_payment")
    async def fail_loan_payment(self, data: FailPayment) -> PaymentResult:
        async with self._sessions.begin() as session:
            payment = await self._payment(session, data.payment_id)
            await loan_payments.update_payment(session, payment.id, status="failed", failure_code=data.failure_code)
            loan = await self._loan(session, str(payment.loan_id))
        return PaymentResult(
            payment_id=data.payment_id,
            loan_id=str(payment.loan_id),
            status="failed",
            loan_status=loan.status,
            failure_code=data.failure_code,
        )

    @activity.defn(name="change_loan")
    async def change_loan(self, data: LoanChangeInput) -> LoanChangeResult:
        """Staff changes go through the same book as everything else: the engine recalculates from the value date
        and only the differences are posted; the audit log says who and why."""
        loan_id = uuid.UUID(data.loan_id)
        value_date = data.value_date
        kind = {"payment": "repayment"}.get(data.kind, data.kind)
        event = NewEvent(
            kind,
            data.reference,
            value_date=value_date,
            amount=data.amount,
            component=data.component,
            daily_rate=Decimal(data.daily_rate) if data.daily_rate else None,
            actor_id=uuid.UUID(data.actor_id),
            reason=data.reason,
        )
        try:
            async with self._sessions.begin() as session:
                change = await self._book.change(
                    session,
                    loan_id,
                    [event],
                    reference=data.reference,
                    kind=f"loan_{data.kind}",
                    cash_in=data.amount or 0 if data.kind == "payment" else 0,
                    metadata={"reason": data.reason, "by": data.actor_label},
                )
                if data.kind == "write_off":
                    await collections.close_case(session, loan_id, change.open_date)
                if not change.replayed:
                    await record_audit(
                        session,
                        Actor("staff", uuid.UUID(data.actor_id), data.actor_label),
                        AuditEntry(
                            f"loan.{data.kind}",
                            "loan",
                            data.loan_id,
                            details=data.model_dump(mode="json", exclude={"actor_id", "actor_label"})
                            | {"entry_id": change.entry_id},
                        ),
                        AuditContext(),
                    )
        except LoanRuleViolation as refused:
            raise ApplicationError(str(refused), type="validation_error", non_retryable=True) from refused
        except LoanClosed as closed:
            raise ApplicationError(str(closed), type="conflict", non_retryable=True) from closed
        except LookupError as missing:
            raise _not_found(f"loan {data.loan_id}") from missing
        return LoanChangeResult(
            loan_id=data.loan_id, status=change.status, entry_id=change.entry_id, replayed=change.replayed
        )

    # --- collections ---------------------------------------------------------------------------------------------

    async def _ladder(self, session: AsyncSession, loan: ServicedLoan) -> tuple[LadderStep, ...]:
        stored = await collections.ladder(session, loan.product_id)
        return ladder_from_stored(stored) if stored else DEFAULT_LADDER

    @activity.defn(name="collections_state")
    async def collections_state(self, data: LoanRef) -> CollectionsState:
        async with self._sessions.begin() as session:
            loan = await self._loan(session, data.loan_id)
            today = await open_business_date(session, self._tz)
            if loan.status != "overdue" or loan.overdue_since is None:
                return CollectionsState(loan_open=loan.status == "active", days_past_due=0, steps=[])
            case = await collections.open_case(session, loan.id, today)
            dpd = (today - loan.overdue_since).days
            promise = await collections.open_promise(session, loan.id)
            if promise is not None and promise.promised_date >= today - timedelta(days=1):
                return CollectionsState(loan_open=True, days_past_due=dpd, steps=[], paused_until=promise.promised_date)
            due = steps_due(await self._ladder(session, loan), dpd, case.steps_done)
            return CollectionsState(loan_open=True, days_past_due=dpd, steps=[s.key for s in due])

    @activity.defn(name="collections_step")
    async def collections_step(self, data: StepInput) -> StepResult:
        ids: list[uuid.UUID] = []
        async with self._sessions.begin() as session:
            loan = await self._loan(session, data.loan_id)
            case = await collections.case(session, loan.id, lock=True)
            if case is None or data.step in case.steps_done or loan.status != "overdue":
                return StepResult(step=data.step, done=True, note="nothing to do")
            step = next(s for s in await self._ladder(session, loan) if s.key == data.step)
            today = data.business_date
            dpd = (today - loan.overdue_since).days if loan.overdue_since else 0
            owed = await owed_now(session, loan)
            note = None
            changes: dict[str, object] = {}
            if step.action in (Action.SMS, Action.EMAIL):
                ids = await self._tell(
                    session,
                    loan,
                    "overdue" if step.day <= 3 else "collections",
                    f"{loan.id}:{case.opened_on}:{step.key}",
                    email=step.action is Action.EMAIL,
                    amount=Money(owed, loan.currency),
                    days=dpd,
                )
            elif step.action in (Action.ASSIGN, Action.ESCALATE):
                senior = step.action is Action.ESCALATE
                collector = await collections.least_loaded_collector(session, senior=senior)
                if collector is not None:
                    await collections.assign(session, loan.id, collector)
                note = f"assigned to {collector}" if collector else "no collector available"
                changes = {"escalated": True} if senior else {}
            elif step.action is Action.HAND_OVER:
                changes = {"handed_over_to": step.agency}
            elif step.action is Action.WRITE_OFF:
                await self._book.change(
                    session,
                    loan.id,
                    [NewEvent("write_off", f"write-off:{loan.id}", reason=f"collections ladder, day {step.day}")],
                    reference=f"write-off:{loan.id}",
                    kind="loan_write_off",
                )
                await collections.close_case(session, loan.id, today)
            elif step.action is Action.AUTO_DEBIT:
                cap = terms_from_stored(loan.terms, loan.currency).caps.max_failed_debits
                card = await loans.card(session, loan.card_id) if loan.card_id else None
                if card is None or not may_debit_again(case.failed_debits, cap, case.last_decline):
                    note = (
                        "no card"
                        if card is None
                        else f"no more debits ({case.failed_debits} failed, last decline {case.last_decline})"
                    )
                else:
                    payment = await loan_payments.create_payment(
                        session,
                        loan_id=loan.id,
                        purpose="auto_debit",
                        amount=debit_amount(owed, step.share),
                        currency=loan.currency,
                        payment_method=card.payment_method,
                        customer_reference=card.customer_reference,
                        payment_id=uuid.uuid5(MESSAGES_NAMESPACE, f"{loan.id}:{case.opened_on}:{step.key}"),
                    )
                    return StepResult(step=data.step, done=False, payment_id=str(payment.id))
            await collections.step_done(session, loan.id, data.step, **changes)
            await record_audit(
                session,
                Actor("system", label="collections"),
                AuditEntry(
                    f"collections.{step.action.value}",
                    "loan",
                    str(loan.id),
                    details={"step": step.key, "days_past_due": dpd, "note": note},
                ),
                AuditContext(),
            )
        await self._deliver(ids)
        return StepResult(step=data.step, done=True, note=note)

    @activity.defn(name="record_debit")
    async def record_debit(self, data: DebitResult) -> None:
        async with self._sessions.begin() as session:
            case = await collections.case(session, uuid.UUID(data.loan_id), lock=True)
            if case is None or data.step in case.steps_done:
                return
            failed = data.status != "succeeded"
            await collections.record_debit(session, uuid.UUID(data.loan_id), failed=failed, decline=data.failure_code)
            await collections.step_done(session, uuid.UUID(data.loan_id), data.step)
            await record_audit(
                session,
                Actor("system", label="collections"),
                AuditEntry(
                    "collections.auto_debit",
                    "loan",
                    data.loan_id,
                    details={
                        "step": data.step,
                        "payment_id": data.payment_id,
                        "status": data.status,
                        "decline": data.failure_code,
                    },
                ),
                AuditContext(),
            )

    @activity.defn(name="check_promise")
    async def check_promise(self, data: PromiseCheck) -> PromiseOutcome:
        async with self._sessions.begin() as session:
            promise = await collections.promise(session, data.promise_id)
            if promise is None:
                raise _not_found(f"promise {data.promise_id}")
            if promise.status != "open":
                return PromiseOutcome(status=promise.status)
            paid = await collections.total_paid(session, promise.loan_id) - promise.paid_before
            status = "kept" if promise_kept(paid, promise.amount) else "broken"
            await collections.resolve_promise(session, promise.id, status, data.business_date)
            await record_audit(
                session,
                Actor("system", label="collections"),
                AuditEntry(
                    f"promise.{status}",
                    "loan",
                    str(promise.loan_id),
                    details={"promise_id": promise.id, "paid": paid, "promised": promise.amount},
                ),
                AuditContext(),
            )
        return PromiseOutcome(status=status)

    @activity.defn(name="close_collections")
    async def close_collections(self, data: LoanRef) -> None:
        async with self._sessions.begin() as session:
            today = await open_business_date(session, self._tz)
            await collections.close_case(session, uuid.UUID(data.loan_id), today)


__all__ = ["LoanServicingActivities", "owed_now"]
