"""`POST /v1/applications` and the borrower's steps through it: accept the offer, sign with the SMS code, link a
card. Each step is an update of the application's workflow, which refuses steps that do not fit where it stands."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from api.applications.schemas import (
    AgreementView,
    ApplicationList,
    ApplicationView,
    CancelBody,
    CardBody,
    CardPageRequest,
    CardPageView,
    NewApplication,
    SignBody,
    SignView,
)
from api.applications.views import application_view
from api.dependencies import CurrentUser, Db, Resources, Temporal, client_address
from api.idempotency import Idempotency
from api.problems import Problem
from api.resources import AppResources
from api.workflow_calls import update_workflow
from config.task_queues import Family
from contracts.origination import (
    APPLICATION_FINAL_STATUSES,
    CancelRequest,
    CardLink,
    CardResult,
    SignAttempt,
    SignResult,
    application_workflow_id,
)
from contracts.visibility import attributes
from domain.lending.signing import signing_code_digest
from providers.payments.protocol import PaymentDeclined, PaymentProviderUnavailable
from services.intake import ApplicationRefused, ApplicationRequest, origination_input, record_application
from store.repositories import agreements, applications
from workflows.loan_application import LoanApplicationWorkflow

router = APIRouter(prefix="/v1/applications", tags=["loan applications"])


async def _own(db: Db, application_id: uuid.UUID, user_id: uuid.UUID) -> applications.Application:
    app = await applications.application(db, application_id)
    if app is None or app.user_id != user_id:
        raise Problem(404, "not_found", "no such application")
    return app


async def _own_then_release(db: Db, application_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Before a command waits on the workflow: the connection goes back to the pool, or requests waiting on
    workflows could hold every connection the workflows' own activities need."""
    await _own(db, application_id, user_id)
    await db.rollback()


@router.post("", status_code=201, response_model=ApplicationView)
async def apply(
    body: NewApplication,
    request: Request,
    user: CurrentUser,
    db: Db,
    resources: Resources,
    temporal: Temporal,
    idem: Idempotency,
) -> JSONResponse:
    """Records the application (personal data encrypted) and starts its workflow; the same Idempotency-Key again
    answers the same application and starts nothing."""
    if (replayed := await idem.replay()) is not None:
        return replayed
    person = body.applicant
    try:
        app = await record_application(
            db,
            resources.cipher,
            resources.settings,
            application_id=uuid.UUID(idem.operation_id()),
            user_id=user.id,
            request=ApplicationRequest(
                product_id=body.product_id,
                principal=body.principal,
                term_days=body.term_days,
                term_periods=body.term_periods,
                first_repayment_date=body.first_repayment_date,
                applicant=applications.Applicant(
                    person.full_name, person.national_id, person.birth_date, person.phone, person.email
                ),
                monthly_income=person.monthly_income,
                device_fingerprint=body.device_fingerprint,
                client_address=client_address(request),
                cpa_network=body.source.network if body.source else None,
                cpa_click_id=body.source.click_id if body.source else None,
            ),
        )
    except ApplicationRefused as refused:
        raise Problem(422, "validation_error", str(refused), extra={"problems": refused.problems}) from None
    await db.commit()  # the workflow reads the application
    await temporal.start_workflow(
        LoanApplicationWorkflow.run,
        origination_input(resources.settings, str(app.id)),
        id=application_workflow_id(str(app.id)),
        task_queue=resources.settings.queue_for(Family.ORIGINATION),
        search_attributes=attributes(
            customer_id=str(user.id), product=str(body.product_id), application_status="received"
        ),
    )
    return await idem.answer(201, application_view(app))


@router.get("", response_model=ApplicationList)
async def my_applications(user: CurrentUser, db: Db) -> ApplicationList:
    return ApplicationList(data=[application_view(a) for a in await applications.for_user(db, user.id)])


@router.get("/{application_id}", response_model=ApplicationView)
async def read_application(application_id: uuid.UUID, user: CurrentUser, db: Db) -> ApplicationView:
    return application_view(await _own(db, application_id, user.id))


async def _fresh(db: Db, application_id: uuid.UUID) -> ApplicationView:
    app = await applications.application(db, application_id)
    assert app is not None
    return application_view(app)


FOLLOW_FOR_S = 300  # a stream ends after five minutes; an EventSource reconnects by itself
KEEP_ALIVE_S = 15


@router.get(
    "/{application_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "server-sent events: `status` with the application as `GET` answers it, first as it stands, "
            "then at each change, until it ends (rejected, disbursed, cancelled, expired, failed) or five minutes pass",
            "content": {"text/event-stream": {}},
        }
    },
)
async def follow(application_id: uuid.UUID, user: CurrentUser, db: Db, resources: Resources) -> StreamingResponse:
    """The application's progress pushed as it happens (checking → decision → offer → signed → card → paid), so an
    app need not poll: each status change is announced by the database (store/notifications.py) and read once."""
    await _own(db, application_id, user.id)
    await db.rollback()  # the stream holds no connection while it waits
    return StreamingResponse(
        status_events(resources, application_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def status_events(resources: AppResources, application_id: uuid.UUID) -> AsyncIterator[str]:
    """The stream `GET .../events` answers (the borrower's page follows the same one, web/account/application.py)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + FOLLOW_FOR_S
    last: str | None = None
    async with resources.status_listener().watch(str(application_id)) as changes:
        while True:
            async with resources.session_factory() as session:
                app = await applications.application(session, application_id)
            if app is None:
                return
            if app.status != last:
                last = app.status
                yield f"event: status\ndata: {application_view(app).model_dump_json()}\n\n"
            if app.status in APPLICATION_FINAL_STATUSES or loop.time() > deadline:
                return
            try:
                await asyncio.wait_for(changes.get(), timeout=KEEP_ALIVE_S)
            except TimeoutError:
                yield ": still here\n\n"  # keeps proxies from closing an idle stream; the state is read again


@router.post("/{application_id}/accept", response_model=ApplicationView)
async def accept_offer(application_id: uuid.UUID, user: CurrentUser, db: Db, temporal: Temporal) -> ApplicationView:
    """The offer is accepted; the agreement is produced and a signing code goes out by SMS."""
    await _own_then_release(db, application_id, user.id)
    await update_workflow(temporal, application_workflow_id(str(application_id)), LoanApplicationWorkflow.accept)
    return await _fresh(db, application_id)


@router.post("/{application_id}/sign", response_model=SignView)
async def sign(
    application_id: uuid.UUID,
    body: SignBody,
    request: Request,
    user: CurrentUser,
    db: Db,
    temporal: Temporal,
    resources: Resources,
) -> SignView:
    await _own_then_release(db, application_id, user.id)
    result: SignResult = await update_workflow(
        temporal,
        application_workflow_id(str(application_id)),
        LoanApplicationWorkflow.sign,
        SignAttempt(
            code_digest=signing_code_digest(
                resources.settings.jwt_secret.encode(), str(application_id), body.code
            ).hex(),
            client_address=client_address(request),
            signer_id=str(user.id),
        ),
    )
    if result.status == "signed":
        return SignView(status="signed", application=await _fresh(db, application_id))
    if result.status == "exhausted":
        raise Problem(
            422, "invalid_code", "too many wrong codes: the application is cancelled", extra={"attempts_left": 0}
        )
    detail = "the code has expired: ask for a new one" if result.status == "expired_code" else "wrong code"
    raise Problem(422, "invalid_code", detail, extra={"attempts_left": result.attempts_left})


@router.post("/{application_id}/sign/resend", response_model=ApplicationView)
async def resend_code(application_id: uuid.UUID, user: CurrentUser, db: Db, temporal: Temporal) -> ApplicationView:
    """A new signing code (the previous one stops working), a limited number of times."""
    await _own_then_release(db, application_id, user.id)
    await update_workflow(temporal, application_workflow_id(str(application_id)), LoanApplicationWorkflow.resend_code)
    return await _fresh(db, application_id)


@router.post("/{application_id}/card", response_model=ApplicationView)
async def link_card(
    application_id: uuid.UUID, body: CardBody, user: CurrentUser, db: Db, temporal: Temporal, resources: Resources
) -> ApplicationView:
    """The card is saved with the payment provider (for the payout now and repayments later)."""
    await _own_then_release(db, application_id, user.id)
    method = body.payment_method
    if body.setup_session is not None:
        try:
            method = await resources.card_page().finish({"session_id": body.setup_session})
        except PaymentDeclined as declined:
            raise Problem(422, "card_declined", f"the card could not be linked: {declined.code}") from None
        except PaymentProviderUnavailable:
            raise Problem(503, "provider_unavailable", "the payment provider did not answer; try again") from None
    assert method is not None
    result: CardResult = await update_workflow(
        temporal,
        application_workflow_id(str(application_id)),
        LoanApplicationWorkflow.link_card,
        CardLink(payment_method=method),
    )
    if result.status != "linked":
        raise Problem(422, "card_declined", f"the card could not be linked: {result.failure_code}")
    return await _fresh(db, application_id)


@router.post("/{application_id}/card-page", response_model=CardPageView)
async def card_page(
    application_id: uuid.UUID, body: CardPageRequest, user: CurrentUser, db: Db, resources: Resources
) -> CardPageView:
    """The payment provider's page where the borrower types their card; it sends the browser back to
    `return_url` with the session (or, from the dev fake, the payment method) to pass to `POST .../card`."""
    app = await _own(db, application_id, user.id)
    if app.status != "awaiting_card":
        raise Problem(409, "conflict", f"the application is {app.status}: no card is asked for now")
    try:
        url = await resources.card_page().start(str(application_id), body.return_url, body.cancel_url)
    except PaymentProviderUnavailable:
        raise Problem(503, "provider_unavailable", "the payment provider did not answer; try again") from None
    return CardPageView(url=url)


@router.get("/{application_id}/agreement", response_model=AgreementView)
async def read_agreement(application_id: uuid.UUID, user: CurrentUser, db: Db, resources: Resources) -> AgreementView:
    """The agreement the borrower is asked to sign (after accepting the offer), or signed."""
    await _own(db, application_id, user.id)
    found = await agreements.agreement(db, application_id)
    if found is None or found.voided_at is not None:
        raise Problem(404, "not_found", "no agreement for this application")
    return AgreementView(
        application_id=application_id,
        text=agreements.document_text(found, resources.cipher),
        document_hash=found.document_hash,
        pdf_hash=found.pdf_hash,
        signed_at=found.signed_at,
    )


@router.get(
    "/{application_id}/agreement.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the PDF whose SHA-256 is `pdf_hash`"}},
)
async def agreement_document(application_id: uuid.UUID, user: CurrentUser, db: Db, resources: Resources) -> Response:
    await _own(db, application_id, user.id)
    content = await agreements.agreement_pdf(db, resources.cipher, application_id)
    if content is None:
        raise Problem(404, "not_found", "no PDF for this application's agreement")
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="agreement-{application_id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/{application_id}/cancel", response_model=ApplicationView)
async def withdraw(
    application_id: uuid.UUID, body: CancelBody, user: CurrentUser, db: Db, temporal: Temporal
) -> ApplicationView:
    """The borrower withdraws, at any step before the money is on its way."""
    await _own_then_release(db, application_id, user.id)
    await update_workflow(
        temporal,
        application_workflow_id(str(application_id)),
        LoanApplicationWorkflow.cancel,
        CancelRequest(reason=body.reason, by=f"borrower:{user.id}"),
    )
    return await _fresh(db, application_id)
