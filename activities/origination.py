"""Origination's I/O: checks against providers, the decision, the agreement and its signing code, the card, the
disbursement and the loan's first ledger entry.

Every activity is safe to run twice. Provider calls carry keys derived from the application id; the loan row is
unique per application and its ledger entry has a fixed idempotency key, so a worker killed between the provider's
confirmation and the booking books the loan exactly once when the activity runs again.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.messaging import MessagingActivities
from contracts.messaging import DeliverMessageInput
from contracts.origination import (
    ApplicationRef,
    BookedLoan,
    BookLoan,
    BureauRequest,
    CardResult,
    CheckResult,
    DecideInput,
    DecisionResult,
    DisbursementOutcome,
    DisbursementRequest,
    EndApplication,
    LinkCard,
    MessageRef,
    Notify,
    PayoutCase,
    PostbackInput,
    RecordReview,
    SendCode,
    SignResult,
    VerifyCode,
)
from domain.accounts import INCOME_FOR, HouseAccount, OwnerAccount, loan_account_code
from domain.ledger import EntryDraft
from domain.lending.agreement import AgreementFacts, document_hash, render_agreement
from domain.lending.cpa import postback_url
from domain.lending.engine import Component
from domain.lending.postings import DisbursementAccounts, disbursement_postings
from domain.lending.products import ProductTerms, origination_fee, terms_from_stored
from domain.lending.schedule import build_schedule, quote
from domain.lending.signing import signing_code_digest
from domain.lending.underwriting import (
    ApplicantFacts,
    BureauSummary,
    CreditRules,
    Decision,
    FraudSignals,
    Outcome,
    age_on,
    decide,
    rules_from_stored,
)
from domain.money import Money
from providers.cpa.postback import PostbackRefused, PostbackSender
from providers.credit.protocol import CreditBureau, CreditProviderUnavailable, ScoringProvider, Subject
from providers.payments.protocol import (
    PaymentDeclined,
    PaymentProvider,
    PaymentProviderUnavailable,
    PayoutRequest,
)
from services.agreement_pdf import agreement_pdf, pdf_hash
from services.loan_book import LoanBook
from services.wording import say_to
from store import ledger
from store.pii import PiiCipher
from store.repositories import agreements, applications, credit_checks, loans, messages, products, servicing
from store.repositories.audit import Actor, AuditContext, AuditEntry, record_audit
from store.repositories.servicing import open_business_date

LOAN_NAMESPACE = uuid.UUID("0b7c3f2e-8d6a-4f55-9a1e-6c2d8e4b7a10")


def loan_id_for(application_id: str) -> uuid.UUID:
    """The loan's id follows from the application's, so every retry books the same loan."""
    return uuid.uuid5(LOAN_NAMESPACE, application_id)


def _first_due(app: applications.Application, start: date) -> date | None:
    """The first repayment date the borrower chose, while it still falls after the loan's start and within its
    term; if the payout lands too late for it, the schedule falls back to one frequency after the start."""
    chosen = app.first_repayment_date
    if chosen is None or not start < chosen <= start + timedelta(days=app.term_days):
        return None
    return chosen


class OriginationActivities:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        cipher: PiiCipher,
        *,
        bureaus: dict[str, CreditBureau],
        scoring: ScoringProvider,
        payments: PaymentProvider,
        postbacks: PostbackSender,
        cpa_networks: dict[str, str],
        code_secret: str,
        public_base_url: str,
        messaging: MessagingActivities,
        book: LoanBook,
    ) -> None:
        self._sessions, self._cipher = session_factory, cipher
        self._book = book
        self._bureaus, self._scoring, self._payments, self._postbacks = bureaus, scoring, payments, postbacks
        self._cpa_networks, self._code_secret = cpa_networks, code_secret.encode()
        self._messaging = messaging
        self._callback_url = f"{public_base_url.rstrip('/')}/v1/webhooks/bureau/{scoring.name}"

    async def _application(self, session: AsyncSession, application_id: str) -> applications.Application:
        found = await applications.application(session, uuid.UUID(application_id))
        if found is None:
            raise ApplicationError(f"application {application_id} not found", type="not_found", non_retryable=True)
        return found

    async def _subject(self, application_id: str) -> tuple[applications.Application, Subject]:
        async with self._sessions.begin() as session:
            app = await self._application(session, application_id)
            person = await applications.applicant(session, self._cipher, app.id)
        return app, Subject(application_id, person.national_id, person.full_name, person.birth_date)

    # --- checks ---------------------------------------------------------------------------------------------------

    @activity.defn(name="check_fraud")
    async def check_fraud(self, data: ApplicationRef) -> CheckResult:
        async with self._sessions.begin() as session:
            app = await self._application(session, data.application_id)
            seen = await applications.velocity(session, app.id, app.created_at - timedelta(days=1))
            listed = await applications.blacklisted_kinds(session, app.id)
            signals = FraudSignals(
                tuple(listed), seen.other_applicants_on_device, seen.by_phone, seen.by_national_id, seen.by_device
            )
            await credit_checks.record_check(
                session,
                application_id=app.id,
                user_id=app.user_id,
                kind="fraud",
                provider="lendflow",
                reference=data.application_id,
                status="received",
                summary=asdict(signals),
            )
            await applications.set_status(session, app.id, "checking")
        return CheckResult(kind="fraud", provider="lendflow", status="received", reference=data.application_id)

    @activity.defn(name="fetch_bureau_report")
    async def fetch_bureau_report(self, data: BureauRequest) -> CheckResult:
        """Raises a retryable error while the bureau is down; the workflow falls back when retries run out."""
        app, subject = await self._subject(data.application_id)
        bureau = self._bureaus.get(data.bureau)
        if bureau is None:
            raise ApplicationError(f"no bureau {data.bureau!r} configured", type="not_found", non_retryable=True)
        try:
            report = await bureau.report(subject)
        except CreditProviderUnavailable as err:
            raise ApplicationError(str(err), type="provider_unavailable") from err
        summary = {
            "found": report.found,
            "open_loans": report.open_loans,
            "delinquencies_12m": report.delinquencies_12m,
            "worst_days_past_due": report.worst_days_past_due,
            "outstanding": report.outstanding,
        }
        async with self._sessions.begin() as session:
            await credit_checks.record_check(
                session,
                application_id=app.id,
                user_id=app.user_id,
                kind="bureau",
                provider=report.bureau,
                reference=report.reference,
                status="received",
                summary=summary,
            )
        return CheckResult(kind="bureau", provider=report.bureau, status="received", reference=report.reference)

    @activity.defn(name="request_score")
    async def request_score(self, data: ApplicationRef) -> CheckResult:
        app, subject = await self._subject(data.application_id)
        try:
            answer = await self._scoring.request_score(subject, self._callback_url)
        except CreditProviderUnavailable as err:
            raise ApplicationError(str(err), type="provider_unavailable") from err
        status = "pending" if answer.score is None else "received"
        async with self._sessions.begin() as session:
            await credit_checks.record_check(
                session,
                application_id=app.id,
                user_id=app.user_id,
                kind="score",
                provider=answer.provider,
                reference=answer.reference,
                status=status,
                summary={} if answer.score is None else {"score": answer.score},
            )
        return CheckResult(
            kind="score", provider=answer.provider, status=status, reference=answer.reference, score=answer.score
        )

    # --- decision -------------------------------------------------------------------------------------------------

    async def _terms(self, session: AsyncSession, app: applications.Application) -> tuple[ProductTerms, int]:
        terms, version = await self._version_terms(session, app)
        return terms, version.version

    @staticmethod
    async def _version_terms(
        session: AsyncSession, app: applications.Application
    ) -> tuple[ProductTerms, products.ProductVersion]:
        """The terms of the product version the application was made under (never a later one)."""
        version = await products.version(session, app.product_version_id)
        assert version is not None
        return terms_from_stored(version.terms, app.currency), version

    @activity.defn(name="decide_application")
    async def decide_application(self, data: DecideInput) -> DecisionResult:
        async with self._sessions.begin() as session:
            app = await self._application(session, data.application_id)
            person = await applications.applicant(session, self._cipher, app.id)
            terms, _ = await self._terms(session, app)
            rule_set = await credit_checks.rule_set_in_force(session, app.product_id)
            rules = CreditRules() if rule_set is None else rules_from_stored(rule_set.rules)
            history = await loans.history(session, app.user_id)
            stored = {
                (c.kind, c.provider, c.reference): c
                for c in await credit_checks.checks_for_application(session, app.id)
            }
            bureau, score, fraud = None, None, FraudSignals()
            for check in data.checks:
                found = stored.get((check.kind, check.provider, check.reference or ""))
                if check.kind == "score" and check.status == "received" and check.reference:
                    # The score may have come by callback: the workflow holds it, the check row learns it here.
                    await credit_checks.record_check(
                        session,
                        application_id=app.id,
                        user_id=app.user_id,
                        kind="score",
                        provider=check.provider,
                        reference=check.reference,
                        status="received",
                        summary={"score": check.score},
                    )
                    score = check.score
                elif check.kind == "bureau" and found is not None and found.status == "received":
                    s = found.summary
                    bureau = BureauSummary(
                        check.provider,
                        bool(s["found"]),
                        int(s["open_loans"]),
                        int(s["delinquencies_12m"]),
                        int(s["worst_days_past_due"]),
                    )
                elif check.kind == "fraud" and found is not None:
                    fraud = FraudSignals(**{**found.summary, "blacklisted": tuple(found.summary["blacklisted"])})
            facts = ApplicantFacts(
                age=age_on(person.birth_date, app.created_at.date()),
                monthly_income=app.monthly_income,
                requested_principal=app.principal,
                term_days=app.term_days,
                repaid_loans=history.repaid,
                open_loans_here=history.open,
                overdue_here=history.overdue > 0,
                bureau=bureau,
                score=score,
                fraud=fraud,
            )
            decision = decide(terms, rules, facts)
            record = self._decision_record(decision, rules_version=None if rule_set is None else rule_set.version)
            offer = (
                await self._offer(session, terms, decision.principal, app)
                if decision.outcome is Outcome.APPROVE
                else None
            )
            await applications.record_decision(session, app.id, decision=record, offer=offer)
            if decision.outcome is not Outcome.REJECT:  # a rejection is written by end_application
                status = "offered" if decision.outcome is Outcome.APPROVE else "manual_review"
                await applications.set_status(session, app.id, status)
        return self._result(decision, app, terms)

    @staticmethod
    def _decision_record(decision: Decision, *, rules_version: int | None, by: str = "rules") -> dict[str, object]:
        return {
            "outcome": decision.outcome.value,
            "principal": decision.principal,
            "by": by,
            "decided_at": datetime.now(UTC).isoformat(),
            "rules_version": rules_version,
            "borrower_reasons": list(decision.borrower_reasons),
            "staff_reasons": list(decision.staff_reasons),
        }

    async def _offer(
        self, session: AsyncSession, terms: ProductTerms, principal: int, app: applications.Application
    ) -> dict[str, object]:
        """The offer as the loan would be booked now: from the market's open business date, as `book_loan` does."""
        start = await open_business_date(session, self._book.timezone)
        offer = quote(terms, principal, app.term_days, start, _first_due(app, start))
        return {
            "principal": principal,
            "currency": app.currency,
            "term_days": app.term_days,
            "interest": offer.interest,
            "fees": offer.fees,
            "total_due": offer.total_due,
            "start_date": start.isoformat(),
            "due_date": offer.due_date.isoformat(),
            "apr": format(offer.apr, "f"),
            "schedule": [
                {"due_date": i.due_date.isoformat(), "principal": i.principal, "interest": i.interest, "total": i.total}
                for i in offer.schedule
            ],
        }

    @staticmethod
    def _result(decision: Decision, app: applications.Application, terms: ProductTerms) -> DecisionResult:
        return DecisionResult(
            outcome=decision.outcome.value,
            principal=decision.principal,
            requested_principal=app.principal,
            principal_min=terms.principal_min,
            principal_step=terms.principal_step,
            borrower_reasons=list(decision.borrower_reasons),
            staff_reasons=list(decision.staff_reasons),
        )

    @activity.defn(name="escalate_review")
    async def escalate_review(self, data: ApplicationRef) -> None:
        async with self._sessions.begin() as session:
            await applications.mark_escalated(session, uuid.UUID(data.application_id))
            await record_audit(
                session,
                Actor("system", label="origination"),
                AuditEntry("application.review_escalated", "application", data.application_id),
                AuditContext(),
            )

    @activity.defn(name="record_review")
    async def record_review(self, data: RecordReview) -> DecisionResult:
        review = data.review
        async with self._sessions.begin() as session:
            app = await self._application(session, data.application_id)
            terms, _ = await self._terms(session, app)
            approve = review.decision == "approve"
            principal = (review.principal or app.principal) if approve else 0
            earlier = app.decision or {}
            decision = Decision(
                Outcome.APPROVE if approve else Outcome.REJECT,
                principal,
                (("lower_amount",) if approve and principal < app.principal else ()) if approve else ("underwriting",),
                (*earlier.get("staff_reasons", []), f"underwriter: {review.reason}"),
            )
            record = self._decision_record(
                decision, rules_version=earlier.get("rules_version"), by=f"staff:{review.staff_id}"
            )
            offer = await self._offer(session, terms, principal, app) if approve else None
            await applications.record_decision(session, app.id, decision=record, offer=offer)
            if approve:
                await applications.set_status(session, app.id, "offered")
        return self._result(decision, app, terms)

    # --- agreement and signing ------------------------------------------------------------------------------------

    @activity.defn(name="prepare_agreement")
    async def prepare_agreement(self, data: ApplicationRef) -> None:
        async with self._sessions.begin() as session:
            app = await self._application(session, data.application_id)
            person = await applications.applicant(session, self._cipher, app.id)
            product = await products.product(session, app.product_id)
            terms, version = await self._terms(session, app)
            assert product is not None and app.offer is not None
            start = await open_business_date(session, self._book.timezone)
            document = render_agreement(
                AgreementFacts(
                    data.application_id,
                    person.full_name,
                    product.name,
                    version,
                    terms,
                    int(app.offer["principal"]),
                    app.term_days,
                    start,
                    _first_due(app, start),
                )
            )
            pdf = agreement_pdf(document)
            await agreements.create_agreement(
                session, self._cipher, app.id, document, document_hash(document), pdf, pdf_hash(pdf)
            )

    def _code_hash(self, application_id: str, code: str) -> bytes:
        return signing_code_digest(self._code_secret, application_id, code)

    @activity.defn(name="send_signing_code")
    async def send_signing_code(self, data: SendCode) -> MessageRef:
        """A fresh code (the previous one stops working), up to `max_codes` per agreement."""
        code = f"{secrets.randbelow(10**6):06d}"
        async with self._sessions.begin() as session:
            app = await self._application(session, data.application_id)
            found = await agreements.agreement(session, app.id, lock=True)
            if found is None or found.signed_at is not None:
                raise ApplicationError("nothing to sign", type="conflict", non_retryable=True)
            if found.codes_sent >= data.max_codes:
                raise ApplicationError(
                    f"at most {data.max_codes} codes are sent per agreement", type="limit_exceeded", non_retryable=True
                )
            await agreements.set_code(
                session, app.id, self._code_hash(data.application_id, code), timedelta(seconds=data.ttl_seconds)
            )
            person = await applications.applicant(session, self._cipher, app.id)
            body = say_to("signing_code", person.phone, code=code, minutes=max(1, data.ttl_seconds // 60))
            message_id = await messages.create_message(
                session, self._cipher, channel="sms", to=person.phone, body=body, purpose="signing_code"
            )
            await applications.set_status(session, app.id, "awaiting_signature")
        return await self._deliver([message_id])

    async def _deliver(self, message_ids: list[uuid.UUID]) -> MessageRef:
        """Handed to the provider from this activity: a provider outage fails it and Temporal retries it (the
        message is sent once: delivery skips messages the provider already took)."""
        for message_id in message_ids:
            await self._messaging.deliver_message(DeliverMessageInput(message_id=str(message_id)))
        return MessageRef(message_ids=[str(m) for m in message_ids])

    @activity.defn(name="verify_signing_code")
    async def verify_signing_code(self, data: VerifyCode) -> SignResult:
        app_id = uuid.UUID(data.application_id)
        async with self._sessions.begin() as session:
            found = await agreements.agreement(session, app_id, lock=True)
            if found is None or found.voided_at is not None:
                raise ApplicationError("nothing to sign", type="conflict", non_retryable=True)
            if found.signed_at is not None:
                return SignResult(status="signed")
            attempts = await agreements.count_attempt(session, app_id)
            left = max(0, data.max_attempts - attempts)
            if found.code_hash is None or found.code_expires_at is None or found.code_expires_at < datetime.now(UTC):
                return SignResult(status="expired_code" if left else "exhausted", attempts_left=left)
            attempt = data.attempt
            # The API sends the code's digest (no code in the workflow's history); older attempts carried the code.
            tried = (
                bytes.fromhex(attempt.code_digest)
                if attempt.code_digest is not None
                else self._code_hash(data.application_id, attempt.code or "")
            )
            if not hmac.compare_digest(found.code_hash, tried):
                return SignResult(status="invalid_code" if left else "exhausted", attempts_left=left)
            person = await applications.applicant(session, self._cipher, app_id)
            await agreements.mark_signed(
                session,
                app_id,
                signer_id=uuid.UUID(data.attempt.signer_id),
                phone_encrypted=self._cipher.encrypt(person.phone),
                address=data.attempt.client_address,
            )
            await applications.set_status(session, app_id, "awaiting_card")
        return SignResult(status="signed", attempts_left=left)

    # --- card and disbursement ------------------------------------------------------------------------------------

    @activity.defn(name="link_card")
    async def link_card(self, data: LinkCard) -> CardResult:
        async with self._sessions.begin() as session:
            app = await self._application(session, data.application_id)
            customer = await loans.customer_reference(session, app.user_id, self._payments.name)
        try:
            saved = await self._payments.save_card(
                data.payment_method, customer, f"card-{app.user_id}-{data.payment_method}"
            )
        except PaymentDeclined as declined:
            return CardResult(status="declined", failure_code=declined.code)
        except PaymentProviderUnavailable as err:
            raise ApplicationError(str(err), type="provider_unavailable") from err
        async with self._sessions.begin() as session:
            card = await loans.save_card(
                session,
                user_id=app.user_id,
                provider=saved.provider,
                payment_method=saved.payment_method,
                customer_reference=saved.customer_reference,
                brand=saved.brand,
                last4=saved.last4,
            )
            await applications.set_status(session, app.id, "disbursing")
        return CardResult(status="linked", card_id=str(card.id))

    @activity.defn(name="request_disbursement")
    async def request_disbursement(self, data: DisbursementRequest) -> DisbursementOutcome:
        """Asks the provider to pay under the attempt's idempotency key: asked again (a retry, or reconciling a
        payout the provider has no record of), the provider answers with the same payout or makes the one it never
        received. The reference it gives is recorded, so callbacks are matched to it and staff see it."""
        async with self._sessions.begin() as session:
            app = await self._application(session, data.application_id)
            card = await loans.card(session, uuid.UUID(data.card_id))
        assert app.offer is not None and card is not None
        try:
            paid = await self._payments.payout(
                PayoutRequest(
                    amount=int(app.offer["principal"]),
                    currency=app.currency,
                    destination=card.payment_method,
                    idempotency_key=f"disburse-{app.id}-{data.attempt}",
                    metadata={"application_id": str(app.id), "kind": "disbursement", "attempt": str(data.attempt)},
                )
            )
        except PaymentDeclined as declined:
            return DisbursementOutcome(status="failed", failure_code=declined.code)
        except PaymentProviderUnavailable as err:
            raise ApplicationError(str(err), type="provider_unavailable") from err
        async with self._sessions.begin() as session:
            await applications.record_payout_request(session, app.id, data.attempt, paid.reference)
        return DisbursementOutcome(status="processing", reference=paid.reference)

    @activity.defn(name="disbursement_status")
    async def disbursement_status(self, data: DisbursementOutcome) -> DisbursementOutcome:
        """Asked when the provider's callback is late: its own record of the payout decides. A payout the provider
        has no record of is `unknown`: the workflow resolves it, it is not an error to retry."""
        assert data.reference is not None
        try:
            found = await self._payments.payout_status(data.reference)
        except PaymentDeclined:
            return DisbursementOutcome(status="unknown", reference=data.reference)
        except PaymentProviderUnavailable as err:
            raise ApplicationError(str(err), type="provider_unavailable") from err
        status = {"paid": "paid", "failed": "failed", "canceled": "failed"}.get(found.status, "pending")
        return DisbursementOutcome(
            status=status, reference=data.reference, failure_code=None if status != "failed" else found.status
        )

    @activity.defn(name="cancel_disbursement")
    async def cancel_disbursement(self, data: DisbursementOutcome) -> DisbursementOutcome:
        """Cancels a payout nobody confirms at the provider, so it cannot land after the application has ended. A
        payout that was paid meanwhile cannot be cancelled and says so; one the provider does not know is `unknown`."""
        assert data.reference is not None
        try:
            found = await self._payments.cancel_payout(data.reference)
        except PaymentDeclined:
            return DisbursementOutcome(status="unknown", reference=data.reference)
        except PaymentProviderUnavailable as err:
            raise ApplicationError(str(err), type="provider_unavailable") from err
        status = {"paid": "paid", "failed": "failed", "canceled": "canceled"}.get(found.status, "pending")
        return DisbursementOutcome(status=status, reference=data.reference)

    @activity.defn(name="set_payout_case")
    async def set_payout_case(self, data: PayoutCase) -> None:
        """Opens (or closes) a case for staff on a payout the workflow cannot settle by itself; audited."""
        async with self._sessions.begin() as session:
            await applications.set_payout_case(session, uuid.UUID(data.application_id), data.case)
            action = "application.payout_case_opened" if data.case else "application.payout_case_closed"
            await record_audit(
                session,
                Actor("system", label="origination"),
                AuditEntry(
                    action, "application", data.application_id, details={"case": data.case, "reference": data.reference}
                ),
                AuditContext(),
            )

    @activity.defn(name="book_loan")
    async def book_loan(self, data: BookLoan) -> BookedLoan:
        """The provider paid: the loan exists from now. Its row, its accounts and its first entry (principal paid
        out, origination fee charged) are written in one transaction, each refusing a second copy."""
        loan_id = loan_id_for(data.application_id)
        async with self._sessions.begin() as session:
            await servicing.share_calendar(session)
            today = await open_business_date(session, self._book.timezone)
            app = await self._application(session, data.application_id)
            assert app.offer is not None
            terms, version = await self._version_terms(session, app)
            principal = int(app.offer["principal"])
            fee = origination_fee(terms, principal)
            first_due = _first_due(app, today)
            schedule = build_schedule(terms, principal, today, app.term_days, first_due)
            accounts = await self._open_loan_accounts(session, loan_id, app.currency)
            card_id = uuid.UUID(data.card_id)
            loan = await loans.create_loan(
                session,
                loan_id=loan_id,
                application_id=app.id,
                user_id=app.user_id,
                product_id=app.product_id,
                product_version_id=app.product_version_id,
                currency=app.currency,
                principal=principal,
                origination_fee=fee,
                term_days=app.term_days,
                start_date=today,
                due_date=schedule[-1].due_date,
                card_id=card_id,
                disbursement_reference=data.reference,
                accounts=accounts,
                terms=version.terms,
                first_due_date=first_due,
            )
            key = f"loan:{app.id}:disbursement"
            settlement = await ledger.house_account(
                session, HouseAccount.SETTLEMENT, app.currency, ledger.house_shard(key)
            )
            postings = disbursement_postings(
                principal,
                fee,
                DisbursementAccounts(
                    app.currency,
                    principal_receivable=accounts["receivable"][Component.PRINCIPAL.value],
                    fee_receivable=accounts["receivable"][Component.FEES.value],
                    fee_income=accounts["income"][Component.FEES.value],
                    settlement=settlement,
                ),
            )
            entry = await ledger.post(
                session,
                EntryDraft(
                    key,
                    "loan_disbursement",
                    loan.start_date,
                    tuple(postings),
                    metadata={
                        "loan_id": str(loan.id),
                        "application_id": str(app.id),
                        "provider_reference": data.reference,
                    },
                ),
            )
            await loans.set_disbursement_entry(session, loan.id, entry.id)
            await applications.set_status(session, app.id, "disbursed", loan_id=loan.id)
            # From here the loan is serviced: its coming nights are projected for close of business.
            await self._book.change(session, loan.id, [], reference="booked", kind="loan_accrual")
        return BookedLoan(loan_id=str(loan.id), entry_id=entry.id, postback=app.cpa_network is not None)

    @staticmethod
    async def _open_loan_accounts(
        session: AsyncSession, loan_id: uuid.UUID, currency: str
    ) -> dict[str, dict[str, int]]:
        codes = {component.value: loan_account_code(loan_id, component) for component in Component}
        opened = await ledger.open_owner_accounts(
            session,
            codes=list(codes.values()),
            owner_type=OwnerAccount.LOAN_RECEIVABLE.value,
            owner_id=loan_id,
            currency=currency,
            kind=OwnerAccount.LOAN_RECEIVABLE.kind,
            allow_negative=True,
        )
        receivable = {component: opened[code] for component, code in codes.items()}
        house = await ledger.house_accounts(
            session, list(INCOME_FOR.values()), currency, ledger.house_shard(str(loan_id))
        )
        income = {component.value: house[purpose] for component, purpose in INCOME_FOR.items()}
        return {"receivable": receivable, "income": income}

    # --- endings and messages -------------------------------------------------------------------------------------

    @activity.defn(name="end_application")
    async def end_application(self, data: EndApplication) -> None:
        """A final status, and compensation for what was done: the agreement can no longer be signed."""
        app_id = uuid.UUID(data.application_id)
        async with self._sessions.begin() as session:
            changed = await applications.set_status(session, app_id, data.status, failure_code=data.failure_code)
            await agreements.void(session, app_id)
            if changed:
                await record_audit(
                    session,
                    Actor("system", label="origination"),
                    AuditEntry(
                        f"application.{data.status}",
                        "application",
                        data.application_id,
                        details={"failure_code": data.failure_code, "reason": data.reason},
                    ),
                    AuditContext(),
                )

    @activity.defn(name="notify_borrower")
    async def notify_borrower(self, data: Notify) -> MessageRef:
        async with self._sessions.begin() as session:
            app = await self._application(session, data.application_id)
            person = await applications.applicant(session, self._cipher, app.id)
            offer = app.offer or {}
            amount = Money(int(offer.get("principal", app.principal)), app.currency)
            # Once funded, the loan's own due date (its schedule starts on the business date it was booked on).
            loan = await loans.loan_for_application(session, app.id) if data.template == "funded" else None
            due_date = (
                loan.due_date
                if loan is not None
                else date.fromisoformat(offer["due_date"])
                if offer.get("due_date")
                else ""
            )
            body = say_to(data.template, person.phone, amount=amount, due_date=due_date)
            key = f"{data.application_id}:{data.template}"
            ids = [
                await messages.create_message(
                    session,
                    self._cipher,
                    channel="sms",
                    to=person.phone,
                    body=body,
                    purpose=f"application_{data.template}",
                    message_id=uuid.uuid5(LOAN_NAMESPACE, key + ":sms"),
                )
            ]
            if person.email and data.template == "funded":
                ids.append(
                    await messages.create_message(
                        session,
                        self._cipher,
                        channel="email",
                        to=person.email,
                        body=body,
                        purpose="application_funded",
                        subject="Your loan has been paid out",
                        message_id=uuid.uuid5(LOAN_NAMESPACE, key + ":email"),
                    )
                )
        return await self._deliver(ids)

    @activity.defn(name="send_cpa_postback")
    async def send_cpa_postback(self, data: PostbackInput) -> None:
        """Retried by its workflow until the network accepts it; the URL is fixed the first time."""
        async with self._sessions.begin() as session:
            app = await self._application(session, data.application_id)
            if app.cpa_network is None or app.cpa_network not in self._cpa_networks:
                return
            existing = await loans.postback(session, app.id)
            if existing is None:
                offer = app.offer or {}
                url = postback_url(
                    self._cpa_networks[app.cpa_network],
                    {
                        "click_id": app.cpa_click_id or "",
                        "order_id": str(app.id),
                        "amount": str(offer.get("principal", app.principal)),
                        "currency": app.currency,
                        "status": "approved",
                        "product": str(app.product_id),
                    },
                )
                await loans.record_postback(session, app.id, app.cpa_network, url)
            elif existing["status"] == "accepted":
                return
            else:
                url = existing["url"]
        try:
            await self._postbacks.send(url)
            error = None
        except PostbackRefused as refused:
            error = str(refused)
        async with self._sessions.begin() as session:
            await loans.postback_attempt(session, app.id, error)
        if error is not None:
            raise ApplicationError(f"{app.cpa_network} refused the postback: {error}", type="postback_refused")
