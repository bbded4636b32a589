"""The pools of shared/db.py: connections stay in autocommit mode, so that
``autocommit()`` lends one as it is and ``transaction()`` wraps its own BEGIN
and COMMIT around the work; a connection is probed before reuse only after
sitting idle."""

import asyncio
from collections.abc import Awaitable, Callable

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from shared import db
from shared import settings as settings_module
from shared.db import AsyncConn
from shared.settings import Settings

INSERT_USER = (
    "INSERT INTO users (email, full_name, password_hash) "
    "VALUES (%(email)s, 'Pool Test', 'not-a-hash')"
)


class Boom(Exception):
    pass


def run(work: Callable[[], Awaitable[None]]) -> None:
    async def then_close() -> None:
        try:
            await work()
        finally:
            await db.close_pools()

    asyncio.run(then_close())


def emails(database_url: str) -> list[str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT email FROM users ORDER BY email").fetchall()
    return [row[0] for row in rows]


def test_a_transaction_that_fails_leaves_nothing_behind(
    settings: Settings, database_url: str
) -> None:
    async def two_inserts_then_a_failure() -> None:
        async with db.transaction() as conn:
            await conn.execute(INSERT_USER, {"email": "first@pool.example"})
            await conn.execute(INSERT_USER, {"email": "second@pool.example"})
            raise Boom()

    with pytest.raises(Boom):
        run(two_inserts_then_a_failure)

    assert emails(database_url) == []


def test_a_transaction_commits_all_its_statements_together(
    settings: Settings, database_url: str
) -> None:
    seen_inside: list[str] = []

    async def two_inserts() -> None:
        async with db.transaction() as conn:
            await conn.execute(INSERT_USER, {"email": "first@pool.example"})
            await conn.execute(INSERT_USER, {"email": "second@pool.example"})
            seen_inside.extend(emails(database_url))

    run(two_inserts)

    assert seen_inside == []
    assert emails(database_url) == ["first@pool.example", "second@pool.example"]


def test_the_one_statement_connection_commits_at_once(
    settings: Settings, database_url: str
) -> None:
    async def one_insert() -> None:
        async with db.autocommit() as conn:
            await conn.execute(INSERT_USER, {"email": "alone@pool.example"})
            assert emails(database_url) == ["alone@pool.example"]

    run(one_insert)


@pytest.mark.parametrize(("idle_limit", "probes"), [(60.0, 0), (0.0, 1)])
def test_a_connection_is_probed_before_reuse_only_after_idling(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    idle_limit: float,
    probes: int,
) -> None:
    settings_module.configure(
        settings.model_copy(
            update={"database_check_after_idle": idle_limit, "database_pool_max": 1}
        )
    )
    probed: list[AsyncConn] = []
    probe = AsyncConnectionPool.check_connection

    async def counting_probe(conn: AsyncConn) -> None:
        probed.append(conn)
        await probe(conn)

    monkeypatch.setattr(AsyncConnectionPool, "check_connection", counting_probe)

    async def twice() -> None:
        async with db.transaction() as conn:
            await conn.execute("SELECT 1")
        probed.clear()  # a new connection is always probed once
        async with db.autocommit() as conn:
            await conn.execute("SELECT 1")

    run(twice)

    assert len(probed) == probes
