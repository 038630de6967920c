from __future__ import annotations

from pydantic import BaseModel, Field

from api.constrained import RequestBody
from api.phone import PhoneNumber


class OtpRequest(RequestBody):
    phone: PhoneNumber


class OtpAccepted(BaseModel):
    status: str = "sent"
    expires_in: int


class TokenRequest(RequestBody):
    phone: PhoneNumber
    code: str = Field(pattern=r"^\d{4,8}$")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
