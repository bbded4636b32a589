"""Connection pools, created lazily on first use and shared by a container.

HTTP functions use the asynchronous pool through :func:`transaction`; the
worker, the command line and the migration runner use the synchronous one
through :func:`sync_transaction`. Both translate the driver's failures into
the service's own errors at this boundary, so a lost database answers 503
and a lock timeout answers ``busy``.
"""

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool, PoolTimeout

from shared.errors import Busy, DatabaseUnavailable
from shared.logs import get_logger
from shared.settings import Settings, get_settings

log = get_logger(__name__)

AsyncConn = psycopg.AsyncConnection[DictRow]
SyncConn = psycopg.Connection[DictRow]

_last_returned: weakref.WeakKeyDictionary[object, float] = weakref.WeakKeyDictionary()
_async_pool: AsyncConnectionPool[AsyncConn] | None = None
_async_pool_loop: asyncio.AbstractEventLoop | None = None
_sync_pool: ConnectionPool[SyncConn] | None = None


def connection_kwargs(settings: Settings) -> dict[str, Any]:
    return {
        "row_factory": dict_row,
        "connect_timeout": settings.database_connect_timeout,
        # None turns server-side prepared statements off (transaction poolers).
        "prepare_threshold": 5 if settings.prepare_statements else None,
        "application_name": "eventscale",
        # transaction() sends its own BEGIN and COMMIT either way; autocommit()
        # then needs no switching back and forth at every checkout.
        "autocommit": True,
    }


def database_url(settings: Settings) -> str:
    if not settings.database_url:
        raise DatabaseUnavailable("DATABASE_URL is not configured.")
    return settings.database_url


def _idle_for(conn: object) -> float:
    returned = _last_returned.get(conn)
    return float("inf") if returned is None else time.monotonic() - returned


async def _check_if_idle(conn: AsyncConn) -> None:
    # A round trip on every checkout would cost the hot path; only
    # connections that sat idle (or slept through a Lambda freeze) are probed.
    if _idle_for(conn) > get_settings().database_check_after_idle:
        await AsyncConnectionPool.check_connection(conn)


def _check_sync_if_idle(conn: SyncConn) -> None:
    if _idle_for(conn) > get_settings().database_check_after_idle:
        ConnectionPool.check_connection(conn)


@contextmanager
def _lent(conn: object) -> Iterator[None]:
    """Note when a connection goes back to its pool. (A pool ``reset``
    callback would do it too, but makes the pool hand every returned
    connection to a worker task or thread instead of taking it back at once.)"""
    try:
        yield
    finally:
        _last_returned[conn] = time.monotonic()


def _pool_options(settings: Settings) -> dict[str, Any]:
    """What both pools share: size, waits, and how connections are made."""
    return {
        "conninfo": database_url(settings),
        "kwargs": connection_kwargs(settings),
        "min_size": min(settings.database_pool_min, settings.database_pool_max),
        "max_size": settings.database_pool_max,
        "timeout": settings.database_pool_timeout,
        "reconnect_timeout": settings.database_pool_timeout * 6,
        "open": False,
    }


async def async_pool() -> AsyncConnectionPool[AsyncConn]:
    """The pool of this event loop, opened on first use."""
    global _async_pool, _async_pool_loop
    loop = asyncio.get_running_loop()
    if _async_pool is None or _async_pool_loop is not loop:
        _async_pool = AsyncConnectionPool(
            connection_class=psycopg.AsyncConnection[DictRow],
            check=_check_if_idle,
            name="eventscale-async",
            **_pool_options(get_settings()),
        )
        _async_pool_loop = loop
        await _async_pool.open(wait=False)
    return _async_pool


def sync_pool() -> ConnectionPool[SyncConn]:
    global _sync_pool
    if _sync_pool is None:
        _sync_pool = ConnectionPool(
            connection_class=psycopg.Connection[DictRow],
            check=_check_sync_if_idle,
            name="eventscale-sync",
            **_pool_options(get_settings()),
        )
        _sync_pool.open(wait=False)
    return _sync_pool


@asynccontextmanager
async def transaction() -> AsyncIterator[AsyncConn]:
    """One connection from the pool, inside one transaction."""
    async with autocommit() as conn, conn.transaction():
        yield conn


@asynccontextmanager
async def autocommit() -> AsyncIterator[AsyncConn]:
    """A pooled connection in autocommit mode, for ONE statement.

    :func:`transaction` costs a BEGIN and a COMMIT round trip; a stored
    procedure that does all its work in one statement is already atomic on
    its own, so the selling hot paths run it this way.
    """
    pool = await async_pool()
    with translate_errors():
        async with pool.connection() as conn:
            with _lent(conn):
                yield conn


@contextmanager
def sync_transaction() -> Iterator[SyncConn]:
    pool = sync_pool()
    with (
        translate_errors(),
        pool.connection() as conn,
        _lent(conn),
        conn.transaction(),
    ):
        yield conn


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn the driver's failures into answers a client can act on."""
    try:
        yield
    except pg_errors.LockNotAvailable as exc:
        log.warning("db.lock_timeout")
        raise Busy(retry_after=1) from exc
    except pg_errors.QueryCanceled as exc:
        log.warning("db.query_canceled")
        raise Busy(retry_after=1) from exc
    except (PoolTimeout, psycopg.OperationalError) as exc:
        log.warning("db.unavailable", extra={"reason": type(exc).__name__})
        raise DatabaseUnavailable(retry_after=2) from exc


async def close_pools() -> None:
    global _async_pool, _async_pool_loop, _sync_pool
    if _async_pool is not None and _async_pool_loop is asyncio.get_running_loop():
        await _async_pool.close()
    _async_pool = _async_pool_loop = None
    close_sync_pool()


def close_sync_pool() -> None:
    global _sync_pool
    if _sync_pool is not None:
        _sync_pool.close()
    _sync_pool = None


def forget_pools() -> None:
    """Drop the pools from outside any event loop. The async pool is closed
    first if its loop is still there and idle (a Lambda handler's, which
    Mangum runs on the thread's loop); otherwise its loop is gone, and it is
    only forgotten."""
    global _async_pool, _async_pool_loop
    loop = _async_pool_loop
    if loop is not None and not loop.is_closed() and not loop.is_running():
        loop.run_until_complete(close_pools())
    _async_pool = _async_pool_loop = None
    close_sync_pool()
