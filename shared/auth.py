"""Who is calling: the bearer-token dependency and role checks that every
route declares."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from shared import db
from shared.errors import Forbidden, Unauthorized
from shared.tokens import AccessClaims, InvalidToken, decode_access_token

Role = Literal["admin", "organizer", "customer"]

# The docs' Authorize button logs in through the OAuth2 password form.
_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)

CALLER_SQL = "SELECT role, is_active, tokens_valid_after FROM users WHERE id = %(id)s"


@dataclass(frozen=True)
class Caller:
    id: UUID
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


async def current_caller(
    token: Annotated[str | None, Depends(_bearer)],
) -> Caller:
    """The caller behind a valid token whose account is still active.

    The role comes from the database, not the token, so a demotion, a
    deactivation or a password change takes effect at once rather than when
    the token expires.
    """
    if not token:
        raise Unauthorized()
    claims = decode_access_token(token)
    async with db.transaction() as conn:
        cursor = await conn.execute(CALLER_SQL, {"id": claims.user_id})
        row = await cursor.fetchone()
    if row is None or not row["is_active"]:
        raise InvalidToken("This account no longer exists or is disabled.")
    if _issued_before(claims, row["tokens_valid_after"]):
        raise InvalidToken("This session ended when the password changed.")
    return Caller(claims.user_id, row["role"])


def _issued_before(claims: AccessClaims, valid_after: datetime | None) -> bool:
    return valid_after is not None and claims.issued_at < valid_after.timestamp()


async def optional_caller(
    token: Annotated[str | None, Depends(_bearer)],
) -> Caller | None:
    """The caller if a token was sent; anonymous otherwise."""
    if not token:
        return None
    return await current_caller(token)


def require_roles(*roles: Role) -> Callable[[Caller], Awaitable[Caller]]:
    """A dependency that lets only the given roles through (403 otherwise)."""

    async def check(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if caller.role not in roles:
            raise Forbidden("Your role does not allow this.")
        return caller

    return check


CurrentCaller = Annotated[Caller, Depends(current_caller)]
OptionalCaller = Annotated[Caller | None, Depends(optional_caller)]
AdminCaller = Annotated[Caller, Depends(require_roles("admin"))]
StaffCaller = Annotated[Caller, Depends(require_roles("admin", "organizer"))]
