"""Request bodies and the query of the users function."""

from typing import Literal

from pydantic import ConfigDict, Field

from shared.accounts import Email, FullName, NewPassword
from shared.auth import Role
from shared.pagination import MAX_PAGE, MAX_PAGE_SIZE
from shared.schemas import RequestModel

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


class UserQuery(RequestModel):
    # Query strings often carry parameters of their own (cache busters);
    # unknown ones are ignored here, as on every other list.
    model_config = ConfigDict(extra="ignore")

    q: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    is_active: bool | None = None
    sort: SortKey = "-created_at"
    page: int = Field(default=1, ge=1, le=MAX_PAGE)
    page_size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)


class UserCreate(RequestModel):
    email: Email
    password: NewPassword
    full_name: FullName
    role: Role
    is_active: bool = True


class UserUpdate(RequestModel):
    full_name: FullName | None = None
    role: Role | None = None
    is_active: bool | None = None
    password: NewPassword | None = None

    def may_remove_an_admin(self) -> bool:
        return (self.role not in (None, "admin")) or self.is_active is False
