"""Request and response bodies of the auth function."""

from typing import Literal

from pydantic import BaseModel, Field

from shared.accounts import Email, FullName, NewPassword


class RegisterRequest(BaseModel):
    email: Email
    password: NewPassword
    full_name: FullName


class LoginRequest(BaseModel):
    # Not validated as an address: a malformed email is just an unknown one,
    # and answers like any other failed login.
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=128)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=256)


class MeUpdate(BaseModel):
    full_name: FullName | None = None
    password: NewPassword | None = None
    current_password: str | None = Field(default=None, max_length=128)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
