"""Bearer tokens: HS256 JWTs carrying who the caller is and, for staff, their roles and project scope."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt

ISSUER = "lendflow"
STAFF_ROLES = ("admin", "underwriter", "collector", "accountant", "support")


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" (borrower or partner) | "staff"
    id: uuid.UUID
    roles: tuple[str, ...] = ()
    projects: tuple[str, ...] = field(default=())  # empty: every project
    label: str | None = None

    def has_any_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


class InvalidToken(Exception):
    pass


def issue_token(principal: Principal, secret: str, ttl: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": str(principal.id),
        "kind": principal.kind,
        "roles": list(principal.roles),
        "projects": list(principal.projects),
        "label": principal.label,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def read_token(token: str, secret: str) -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp", "sub", "iss"]}
        )
        return Principal(
            kind=str(claims["kind"]),
            id=uuid.UUID(claims["sub"]),
            roles=tuple(claims.get("roles", ())),
            projects=tuple(claims.get("projects", ())),
            label=claims.get("label"),
        )
    except (jwt.PyJWTError, KeyError, ValueError) as err:
        raise InvalidToken(str(err)) from err
