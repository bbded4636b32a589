"""Accounts as both the auth and the users functions see them: the User
shape, the rules for emails and passwords, and the writes they share."""

import asyncio
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from email_validator import validate_email
from psycopg import errors as pg_errors
from pydantic import AfterValidator, Field, StringConstraints

from shared import db
from shared.auth import Role
from shared.db import AsyncConn
from shared.errors import Conflict, NotFound
from shared.passwords import hash_password
from shared.schemas import Schema
from shared.sqlfile import load_queries

queries = load_queries(__file__, "accounts.sql")

MAX_EMAIL_LENGTH = 320


def normalise_email(email: str) -> str:
    """The stored form of an email: validated, then lower-cased."""
    return validate_email(email, check_deliverability=False).normalized.lower()


Email = Annotated[
    str, Field(max_length=MAX_EMAIL_LENGTH), AfterValidator(normalise_email)
]
NewPassword = Annotated[str, Field(min_length=8, max_length=128)]
FullName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]


class User(Schema):
    id: UUID
    email: str
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None


class EmailTaken(Conflict):
    code = "email_taken"
    detail = "An account with this email already exists."


class UserNotFound(NotFound):
    code = "user_not_found"
    detail = "No such user."


async def hash_in_thread(password: str) -> str:
    """Hash off the event loop: one hash takes tens of milliseconds of CPU."""
    return await asyncio.to_thread(hash_password, password)


async def hash_if_given(password: str | None) -> str | None:
    return None if password is None else await hash_in_thread(password)


async def get_user(user_id: UUID) -> User:
    async with db.transaction() as conn:
        return await fetch_user(conn, user_id)


async def fetch_user(conn: AsyncConn, user_id: UUID) -> User:
    cursor = await conn.execute(queries["user_by_id"], {"id": user_id})
    return _user_or_not_found(await cursor.fetchone())


async def insert_user(
    conn: AsyncConn,
    *,
    email: str,
    full_name: str,
    role: Role,
    password_hash: str,
    is_active: bool = True,
) -> User:
    values = {
        "email": email,
        "full_name": full_name,
        "role": role,
        "is_active": is_active,
        "password_hash": password_hash,
    }
    try:
        cursor = await conn.execute(queries["insert_user"], values)
    except pg_errors.UniqueViolation as exc:
        raise EmailTaken() from exc
    return _user_or_not_found(await cursor.fetchone())


async def update_user(
    conn: AsyncConn,
    user_id: UUID,
    *,
    full_name: str | None = None,
    role: Role | None = None,
    is_active: bool | None = None,
    password_hash: str | None = None,
) -> User:
    """Change what is given; a new password or a deactivation also ends
    every session, so a stolen refresh token dies with the old password."""
    values = {
        "id": user_id,
        "full_name": full_name,
        "role": role,
        "is_active": is_active,
        "password_hash": password_hash,
    }
    cursor = await conn.execute(queries["update_user"], values)
    user = _user_or_not_found(await cursor.fetchone())
    if password_hash is not None or is_active is False:
        await revoke_refresh_tokens(conn, user_id)
    return user


async def revoke_refresh_tokens(conn: AsyncConn, user_id: UUID) -> None:
    await conn.execute(queries["revoke_refresh_tokens"], {"user_id": user_id})


def _user_or_not_found(row: dict[str, Any] | None) -> User:
    if row is None:
        raise UserNotFound()
    return User.model_validate(row)
