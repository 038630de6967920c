"""`POST /v1/auth/otp` and `POST /v1/auth/token`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request

from api.auth.schemas import OtpAccepted, OtpRequest, TokenRequest, TokenResponse
from api.dependencies import AnonymousAudit, Db, Resources, Temporal, client_address
from api.problems import Problem
from api.security.otp_codes import code_hash, code_matches, new_code
from api.security.tokens import Principal, issue_token
from config.task_queues import Family
from contracts.messaging import MessageDeliveryInput, message_workflow_id
from services.wording import say_to
from store.repositories import identity, messages
from store.repositories.audit import Actor
from workflows.message_delivery import MessageDeliveryWorkflow

router = APIRouter(prefix="/v1/auth", tags=["sign-in"])

INVALID_CODE = "the phone number or code is not valid, or the code has expired"


@router.post("/otp", status_code=202, response_model=OtpAccepted)
async def request_code(
    body: OtpRequest, request: Request, db: Db, resources: Resources, temporal: Temporal
) -> OtpAccepted:
    """Sends a sign-in code by SMS. Limited per phone and per client address within a window."""
    settings = resources.settings
    lookup = resources.cipher.lookup(body.phone)
    address = client_address(request)
    since = datetime.now(UTC) - timedelta(seconds=settings.otp_window_seconds)
    by_phone, by_address = await identity.recent_otp_requests(
        db, phone_lookup=lookup, client_address=address, since=since
    )
    if by_phone >= settings.otp_max_per_phone or by_address >= settings.otp_max_per_address:
        raise Problem(
            429,
            "rate_limited",
            "too many codes were requested; try again later",
            headers={"Retry-After": str(settings.otp_window_seconds)},
        )
    code = new_code()
    minutes = max(1, settings.otp_ttl_seconds // 60)
    message_id = await messages.create_message(
        db,
        resources.cipher,
        channel="sms",
        to=body.phone,
        purpose="sign_in",
        body=say_to("sign_in_code", body.phone, code=code, minutes=minutes),
    )
    await identity.open_challenge(
        db,
        phone_lookup=lookup,
        code_hash=code_hash(settings.jwt_secret, lookup, code),
        client_address=address,
        ttl=timedelta(seconds=settings.otp_ttl_seconds),
        message_id=message_id,
    )
    await db.commit()  # the delivery workflow reads the message: it must exist before the workflow starts
    await temporal.start_workflow(
        MessageDeliveryWorkflow.run,
        MessageDeliveryInput(
            message_id=str(message_id),
            send_attempts=settings.message_send_attempts,
            status_wait_seconds=settings.message_status_wait_seconds,
        ),
        id=message_workflow_id(str(message_id)),
        task_queue=settings.queue_for(Family.MESSAGING),
    )
    return OtpAccepted(expires_in=settings.otp_ttl_seconds)


@router.post("/token", response_model=TokenResponse)
async def exchange_code(body: TokenRequest, db: Db, resources: Resources, audit: AnonymousAudit) -> TokenResponse:
    settings = resources.settings
    lookup = resources.cipher.lookup(body.phone)
    challenge = await identity.live_challenge(db, lookup)
    if challenge is None or not code_matches(settings.jwt_secret, lookup, body.code, challenge.code_hash):
        if challenge is not None:
            challenge.attempts += 1
            if challenge.attempts >= settings.otp_max_attempts:
                challenge.consumed_at = datetime.now(UTC)  # burned: a new code must be requested
        await audit.record("user.sign_in", outcome="denied")
        await db.commit()  # the failed attempt counts even though the answer is an error
        raise Problem(401, "invalid_credentials", INVALID_CODE)
    now = datetime.now(UTC)
    challenge.consumed_at = now
    user = await identity.user_for_phone(db, resources.cipher, body.phone)
    user.last_sign_in_at = now
    principal = Principal(kind="user", id=user.id, roles=(user.kind,))
    await audit.record("user.sign_in", target_type="user", target_id=str(user.id), actor=Actor("user", user.id))
    ttl = timedelta(minutes=settings.jwt_ttl_minutes)
    return TokenResponse(
        access_token=issue_token(principal, settings.jwt_secret, ttl), expires_in=int(ttl.total_seconds())
    )
