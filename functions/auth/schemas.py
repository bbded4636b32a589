"""Request and response bodies of the auth function."""

from typing import Literal

from pydantic import ConfigDict, Field

from shared.accounts import Email, FullName, NewPassword
from shared.schemas import RequestModel, Schema


class RegisterRequest(RequestModel):
    email: Email
    password: NewPassword
    full_name: FullName


class LoginRequest(RequestModel):
    # Not validated as an address: a malformed email is just an unknown one,
    # and answers like any other failed login.
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=128)


class TokenForm(RequestModel):
    """The OAuth2 password grant's form, as the docs' Authorize button sends it."""

    # RFC 6749 (3.1) has servers ignore request parameters they do not know.
    model_config = ConfigDict(extra="ignore")

    grant_type: Literal["password"] | None = None
    username: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=128)
    scope: str = Field(default="", max_length=1000)
    client_id: str | None = Field(default=None, max_length=255)
    client_secret: str | None = Field(default=None, max_length=255)


class RefreshRequest(RequestModel):
    refresh_token: str = Field(min_length=1, max_length=256)


class MeUpdate(RequestModel):
    full_name: FullName | None = None
    password: NewPassword | None = None
    current_password: str | None = Field(default=None, max_length=128)


class TokenPair(Schema):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
