"""Who can sign in: borrowers and partners (by phone), staff (by e-mail and password), one-time codes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, CreatedAt


class User(CreatedAt, Base):
    """A borrower or partner. The phone is personal data: stored encrypted, found by its keyed hash."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    phone_lookup: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    phone_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    kind: Mapped[str] = mapped_column(String(16), default="customer")
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StaffMember(CreatedAt, Base):
    __tablename__ = "staff"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    projects: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    totp_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class OtpChallenge(CreatedAt, Base):
    """One code sent to one phone. Only the code's keyed hash is kept; the row also counts attempts and
    remembers the requesting address, which is what the per-phone and per-address rate limits count."""

    __tablename__ = "otp_challenges"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    phone_lookup: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    purpose: Mapped[str] = mapped_column(String(32), default="sign_in")
    client_address: Mapped[str] = mapped_column(String(64), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    consumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("outbound_messages.id"))


class ConsoleSession(Base):
    """A staff member's browser session on the console (web/console/). The cookie holds a random token; only its
    digest is kept. `roles` and `projects` are what the member had at sign-in: a change ends the session."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    token_digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    roles: Mapped[list[str]] = mapped_column(ARRAY(Text))
    projects: Mapped[list[str]] = mapped_column(ARRAY(Text))
    csrf_token: Mapped[str] = mapped_column(Text)
    second_factor_done: Mapped[bool] = mapped_column(Boolean, default=False)
    pending_totp_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_reason: Mapped[str | None] = mapped_column(Text)


class UserSession(Base):
    """A borrower's or partner's browser session on their pages (/account, /partner), opened by an SMS code. The
    cookie holds a random token; only its digest is kept. `language` and `time_zone` are what the pages speak and
    show dates in: from the phone's country at sign-in, changed by the person's own choice."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    token_digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(Text)
    time_zone: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
