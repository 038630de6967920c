from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, EmailStr, Field

from api.constrained import RequestBody, Slug

StaffRole = Literal["admin", "underwriter", "collector", "accountant", "support"]


class MemberChange(RequestBody):
    """Only what is given changes."""

    roles: list[StaffRole] | None = Field(default=None, min_length=1, max_length=5)
    projects: list[Slug] | None = Field(default=None, max_length=100, description="empty: every project")
    active: bool | None = None
    reset_second_factor: bool = Field(
        default=False, description="forget the member's authenticator (a lost phone): they enrol again at sign-in"
    )


class StaffTokenRequest(RequestBody):
    # Not EmailStr: sign-in must accept whatever address an account was created with.
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=1, max_length=256)


class StaffTokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    roles: list[str]


class NewStaffMember(RequestBody):
    email: EmailStr
    password: str = Field(min_length=12, max_length=256)
    roles: list[StaffRole] = Field(min_length=1, max_length=5)
    projects: list[Slug] = Field(default_factory=list, max_length=100, description="empty: every project")


class StaffMemberView(BaseModel):
    id: uuid.UUID
    email: str
    roles: list[str]
    projects: list[str]
    active: bool
    second_factor: bool = False  # an authenticator is enrolled for the console


class AuditRecordView(BaseModel):
    id: int
    at: datetime
    actor_kind: str
    actor_id: uuid.UUID | None
    actor_label: str | None
    action: str
    target_type: str | None
    target_id: str | None
    outcome: str
    details: dict[str, Any]
    request_id: str | None
    client_address: str | None


class AuditPage(BaseModel):
    data: list[AuditRecordView]
    has_more: bool


class StaffMemberList(BaseModel):
    data: list[StaffMemberView]
    has_more: bool
