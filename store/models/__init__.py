"""Typed ORM models. Import from here so Alembic and the repositories see one metadata."""

from store.models.audit import AuditRecord
from store.models.base import Base
from store.models.idempotency import IdempotentRequest
from store.models.identity import ConsoleSession, OtpChallenge, StaffMember, User, UserSession
from store.models.messaging import OutboundMessage
from store.models.webhooks import WebhookEvent

__all__ = [
    "AuditRecord",
    "Base",
    "ConsoleSession",
    "IdempotentRequest",
    "OtpChallenge",
    "OutboundMessage",
    "StaffMember",
    "User",
    "UserSession",
    "WebhookEvent",
]
