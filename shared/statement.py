"""One statement, one round trip.

``db.transaction()`` wraps its work in BEGIN and COMMIT, two more round trips
than a single call needs. A stored procedure that does all its work in one
statement is already atomic under autocommit, so the hot paths of selling run
it on a connection borrowed in autocommit mode instead.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from shared import db


@asynccontextmanager
async def autocommit() -> AsyncIterator[db.AsyncConn]:
    """A pooled connection in autocommit mode: each statement is its own
    transaction. Use it for one statement only."""
    pool = await db.async_pool()
    with db.translate_errors():
        async with pool.connection() as conn:
            await conn.set_autocommit(True)
            try:
                yield conn
            finally:
                if not conn.closed:
                    await conn.set_autocommit(False)
