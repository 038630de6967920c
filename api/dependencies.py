"""What routes declare they need: `Db`, `Resources`, `Temporal`, and who may call (`CurrentUser`,
`CurrentStaff`, `StaffWith(...)`), plus the audit log of staff actions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from api.problems import Problem
from api.request_context import request_id_var
from api.resources import AppResources
from api.security.tokens import InvalidToken, Principal, read_token
from store.repositories.audit import Actor, AuditContext, AuditEntry, record_audit
from store.repositories.identity import staff_member


def get_resources(request: Request) -> AppResources:
    resources: AppResources = request.app.state.resources
    return resources


Resources = Annotated[AppResources, Depends(get_resources)]


async def get_db(resources: Resources) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: committed when the route returns (before the answer is sent), rolled back
    when it raises, so bad input changes nothing. A route that must make its writes visible before it starts a
    workflow commits explicitly; the session begins a new transaction after that."""
    async with resources.session_factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


Db = Annotated[AsyncSession, Depends(get_db, scope="function")]


async def get_temporal(resources: Resources) -> Client:
    try:
        return await resources.temporal()
    except Exception as err:
        raise Problem(503, "unavailable", "the workflow service is not reachable; try again shortly") from err


Temporal = Annotated[Client, Depends(get_temporal)]

_bearer = HTTPBearer(auto_error=False)


def client_address(request: Request) -> str:
    """The caller's network address as the platform keeps it (audit log, throttles, signing evidence): a keyed
    digest, never in clear. Equal addresses give equal digests, so every per-address limit still counts."""
    raw = request.client.host if request.client else "unknown"
    resources: AppResources = request.app.state.resources
    return resources.cipher.address_digest(raw)


async def get_principal(
    resources: Resources, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    unauthorized = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Problem(401, "unauthorized", "a bearer token is required", headers=unauthorized)
    try:
        return read_token(credentials.credentials, resources.settings.jwt_secret)
    except InvalidToken as err:
        raise Problem(401, "unauthorized", "the token is invalid or expired", headers=unauthorized) from err


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_user(principal: CurrentPrincipal) -> Principal:
    if principal.kind != "user":
        raise Problem(403, "forbidden", "this route is for borrowers and partners")
    return principal


CurrentUser = Annotated[Principal, Depends(get_user)]


async def get_staff(principal: CurrentPrincipal, db: Db) -> Principal:
    """The staff member as the database has them now, not as the token remembers: a disabled account loses access
    on its next request, and a change of roles or projects applies at once."""
    if principal.kind != "staff":
        raise Problem(403, "forbidden", "this route is for staff")
    member = await staff_member(db, principal.id)
    if member is None or not member.active:
        raise Problem(401, "unauthorized", "this staff account is disabled", headers={"WWW-Authenticate": "Bearer"})
    return Principal(
        kind="staff", id=member.id, roles=tuple(member.roles), projects=tuple(member.projects), label=member.email
    )


CurrentStaff = Annotated[Principal, Depends(get_staff)]


def StaffWith(*roles: str) -> Any:
    """`StaffWith("admin", "underwriter")`: staff holding any of these roles (admin always may)."""
    allowed = {"admin", *roles}

    async def require(principal: CurrentStaff) -> Principal:
        if not principal.has_any_role(*allowed):
            raise Problem(403, "forbidden", f"this needs one of the roles: {', '.join(sorted(allowed))}")
        return principal

    return Annotated[Principal, Depends(require)]


def require_project(staff: Principal, project: str) -> None:
    """Staff scoped to projects act on those only (an empty scope is every project)."""
    if staff.projects and project not in staff.projects:
        raise Problem(403, "forbidden", f"your access does not cover project {project!r}")


class AuditLog:
    """Writes in the request's own transaction: the record exists exactly when the action happened."""

    def __init__(self, session: AsyncSession, principal: Principal | None, address: str) -> None:
        self._session = session
        self._actor = Actor("anonymous") if principal is None else Actor(principal.kind, principal.id, principal.label)
        self._context = AuditContext(request_id=request_id_var.get(), client_address=address)

    async def record(
        self,
        action: str,
        *,
        target_type: str | None = None,
        target_id: str | None = None,
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> None:
        await record_audit(
            self._session,
            actor or self._actor,
            AuditEntry(action, target_type, target_id, outcome, details or {}),
            self._context,
        )


async def staff_audit(request: Request, session: Db, principal: CurrentStaff) -> AuditLog:
    return AuditLog(session, principal, client_address(request))


async def anonymous_audit(request: Request, session: Db) -> AuditLog:
    return AuditLog(session, None, client_address(request))


async def user_audit(request: Request, session: Db, principal: CurrentUser) -> AuditLog:
    return AuditLog(session, principal, client_address(request))


StaffAudit = Annotated[AuditLog, Depends(staff_audit)]
AnonymousAudit = Annotated[AuditLog, Depends(anonymous_audit)]
UserAudit = Annotated[AuditLog, Depends(user_audit)]
