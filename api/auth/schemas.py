from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.phone import PhoneNumber


class OtpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: PhoneNumber


class OtpAccepted(BaseModel):
    status: str = "sent"
    expires_in: int


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: PhoneNumber
    code: str = Field(pattern=r"^\d{4,8}$")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
