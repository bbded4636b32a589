"""Request bodies and the query of the users function."""

from typing import Literal

from pydantic import BaseModel, Field

from shared.accounts import Email, FullName, NewPassword
from shared.auth import Role

SortKey = Literal[
    "created_at",
    "-created_at",
    "email",
    "-email",
    "full_name",
    "-full_name",
    "last_login_at",
    "-last_login_at",
]


class UserQuery(BaseModel):
    q: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    is_active: bool | None = None
    sort: SortKey = "-created_at"
    page: int = Field(default=1, ge=1)
    page_size: int = Field(default=20, ge=1, le=100)


class UserCreate(BaseModel):
    email: Email
    password: NewPassword
    full_name: FullName
    role: Role
    is_active: bool = True


class UserUpdate(BaseModel):
    full_name: FullName | None = None
    role: Role | None = None
    is_active: bool | None = None
    password: NewPassword | None = None

    def may_remove_an_admin(self) -> bool:
        return (self.role not in (None, "admin")) or self.is_active is False
