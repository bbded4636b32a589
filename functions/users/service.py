"""The admin's users table: search, filter, sort and page; create, edit and
delete accounts without ever leaving the service without an active admin."""

from typing import Any
from uuid import UUID

from psycopg import errors as pg_errors
from psycopg import sql

from functions.users.schemas import UserCreate, UserQuery, UserUpdate
from shared import accounts, db
from shared.accounts import User
from shared.db import AsyncConn
from shared.errors import Conflict
from shared.locks import LockClass
from shared.logs import get_logger
from shared.schemas import Page
from shared.sqlfile import load_queries

log = get_logger(__name__)
queries = load_queries(__file__)

# Shorter searches have no trigram to look up: scanning is their best plan.
TRIGRAM_LENGTH = 3
# Ascending order puts NULLs last by itself; descending needs saying so.
NULLABLE_SORT_COLUMNS = {"last_login_at"}


class LastAdmin(Conflict):
    code = "last_admin"
    detail = "This would leave no active admin."


async def list_users(query: UserQuery) -> Page[User]:
    filters, values = _filters(query)
    values |= {"limit": query.page_size, "offset": (query.page - 1) * query.page_size}
    listing = sql.SQL(queries["list_users"]).format(
        filters=filters, order=_order(query.sort)
    )
    counting = sql.SQL(queries["count_users"]).format(filters=filters)
    async with db.transaction() as conn:
        if query.q and len(query.q) >= TRIGRAM_LENGTH:
            await conn.execute(queries["prefer_index_scans"])
        rows = await (await conn.execute(listing, values)).fetchall()
        total = await (await conn.execute(counting, values)).fetchone()
    assert total is not None
    items = [User.model_validate(row) for row in rows]
    return Page(
        items=items, total=total["total"], page=query.page, page_size=query.page_size
    )


async def create_user(request: UserCreate) -> User:
    password_hash = await accounts.hash_in_thread(request.password)
    async with db.transaction() as conn:
        user = await accounts.insert_user(
            conn,
            email=request.email,
            full_name=request.full_name,
            role=request.role,
            is_active=request.is_active,
            password_hash=password_hash,
        )
    log.info("user.created", extra={"user_id": str(user.id), "role": user.role})
    return user


async def get_user(user_id: UUID) -> User:
    return await accounts.get_user(user_id)


async def update_user(user_id: UUID, change: UserUpdate) -> User:
    password_hash = await accounts.hash_if_given(change.password)
    async with db.transaction() as conn:
        if change.may_remove_an_admin():
            await _refuse_last_admin(conn, user_id)
        user = await accounts.update_user(
            conn,
            user_id,
            full_name=change.full_name,
            role=change.role,
            is_active=change.is_active,
            password_hash=password_hash,
        )
    log.info("user.updated", extra={"user_id": str(user_id)})
    return user


async def delete_user(user_id: UUID) -> None:
    async with db.transaction() as conn:
        await accounts.fetch_user(conn, user_id)
        await _refuse_last_admin(conn, user_id)
        try:
            async with conn.transaction():
                await conn.execute(queries["delete_user"], {"id": user_id})
        except pg_errors.ForeignKeyViolation:
            # Orders (and the like) point at this user: keep the row for them.
            await conn.execute(queries["anonymise_user"], {"id": user_id})
            await accounts.revoke_refresh_tokens(conn, user_id)
            log.info("user.anonymised", extra={"user_id": str(user_id)})
            return
    log.info("user.deleted", extra={"user_id": str(user_id)})


async def _refuse_last_admin(conn: AsyncConn, user_id: UUID) -> None:
    await conn.execute(queries["lock_admins"], {"lock_class": LockClass.USER})
    cursor = await conn.execute(queries["is_last_active_admin"], {"id": user_id})
    row = await cursor.fetchone()
    if row is not None and row["last_admin"]:
        raise LastAdmin()


def _filters(query: UserQuery) -> tuple[sql.Composable, dict[str, Any]]:
    parts: list[sql.Composable] = []
    values: dict[str, Any] = {}
    if query.q:
        parts.append(sql.SQL(queries["filter_text"]))
        values["pattern"] = f"%{_escape_like(query.q)}%"
    if query.role is not None:
        parts.append(sql.SQL(queries["filter_role"]))
        values["role"] = query.role
    if query.is_active is not None:
        parts.append(sql.SQL(queries["filter_active"]))
        values["is_active"] = query.is_active
    return sql.SQL(" AND ").join(parts or [sql.SQL("true")]), values


def _order(sort: str) -> sql.Composable:
    column = sort.removeprefix("-")
    if not sort.startswith("-"):
        template = queries["order_ascending"]
    elif column in NULLABLE_SORT_COLUMNS:
        template = queries["order_descending_nulls_last"]
    else:
        template = queries["order_descending"]
    return sql.SQL(template).format(column=sql.Identifier(column))


def _escape_like(text: str) -> str:
    """Make % _ and \\ match themselves (backslash is LIKE's escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
