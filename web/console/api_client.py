"""The console's way to the platform (web/platform_api.py) as the signed-in staff member: the API reads the member
from the database on every call, so a disabled account or a changed role stops here too."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi import FastAPI

from api.security.tokens import Principal
from config import Settings
from web.platform_api import ApiProblem, PlatformApi

__all__ = ["ApiProblem", "ConsoleApi", "Staff"]


@dataclass(frozen=True)
class Staff:
    id: uuid.UUID
    email: str
    roles: tuple[str, ...]
    projects: tuple[str, ...]

    def may(self, *roles: str) -> bool:
        """Admin may everything; otherwise any of the roles (none: any signed-in member)."""
        return "admin" in self.roles or not roles or any(role in self.roles for role in roles)


class ConsoleApi(PlatformApi):
    def __init__(self, app: FastAPI, settings: Settings, staff: Staff, client_host: str | None = None) -> None:
        principal = Principal(kind="staff", id=staff.id, roles=staff.roles, projects=staff.projects, label=staff.email)
        super().__init__(app, settings, principal, client_host)
