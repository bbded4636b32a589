"""Login throttling shared by every instance of the function: the attempts
live in PostgreSQL, so a burst spread over many Lambdas is counted as one."""

from psycopg import sql

from shared.db import AsyncConn
from shared.errors import TooManyRequests
from shared.locks import LockClass
from shared.logs import get_logger
from shared.settings import get_settings
from shared.sqlfile import load_queries

log = get_logger(__name__)
queries = load_queries(__file__)


class TooManyAttempts(TooManyRequests):
    code = "too_many_attempts"
    detail = "Too many failed logins; try again later."


async def admit(conn: AsyncConn, email: str, client_ip: str) -> None:
    """Let a login attempt through, counted as a failure until it succeeds,
    or refuse it with the wait before the next one may be tried."""
    settings = get_settings()
    await conn.execute(
        queries["lock_login_throttle"],
        {
            "email_class": LockClass.LOGIN_EMAIL,
            "email": email,
            "address_class": LockClass.LOGIN_ADDRESS,
            "client_ip": client_ip,
        },
    )
    wait = max(
        await _throttled_for(conn, "email", email, settings.login_attempts_per_email),
        await _throttled_for(
            conn, "client_ip", client_ip, settings.login_attempts_per_address
        ),
    )
    if wait > 0:
        log.warning("auth.login_throttled", extra={"client_ip": client_ip})
        raise TooManyAttempts(retry_after=wait)
    await conn.execute(
        queries["record_attempt"], {"email": email, "client_ip": client_ip}
    )


async def forgive(conn: AsyncConn, email: str) -> None:
    await conn.execute(queries["clear_attempts"], {"email": email})


async def _throttled_for(conn: AsyncConn, key_column: str, key: str, limit: int) -> int:
    query = sql.SQL(queries["throttled_for"]).format(
        key_column=sql.Identifier(key_column)
    )
    window = get_settings().login_attempt_window_seconds
    cursor = await conn.execute(query, {"key": key, "limit": limit, "window": window})
    row = await cursor.fetchone()
    return int(row["retry_after"]) if row else 0
