"""Responses remembered per Idempotency-Key, so a repeated POST answers the same and does nothing new."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from store.models.base import Base, CreatedAt


class IdempotentRequest(CreatedAt, Base):
    __tablename__ = "idempotent_requests"

    # The key is scoped to the caller and the route, so two callers cannot collide on a key.
    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSONB)
