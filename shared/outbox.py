"""The transactional outbox: facts written beside the change they announce.

A service calls :func:`write` inside its transaction. The request's rows are
remembered, and once the response is done :func:`after_request` hands them to
the broker. Rows that cannot be published now wait in the table for the
worker's relay job, so nothing is lost when the broker is down.
"""

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from shared.db import AsyncConn
from shared.logs import get_logger, request_id_var

log = get_logger(__name__)


@dataclass
class PendingMessages:
    request_id: str | None
    ids: list[UUID] = field(default_factory=list)


_pending: ContextVar[PendingMessages | None] = ContextVar("outbox", default=None)

INSERT_SQL = """
INSERT INTO outbox (topic, payload, headers)
VALUES (%(topic)s, %(payload)s, %(headers)s)
RETURNING id
"""


def start_request(request_id: str | None) -> PendingMessages:
    pending = PendingMessages(request_id)
    _pending.set(pending)
    return pending


async def write(conn: AsyncConn, topic: str, payload: dict[str, Any]) -> UUID:
    """Record a message in the caller's transaction; published after commit."""
    headers = {"request_id": request_id_var.get()}
    cursor = await conn.execute(
        INSERT_SQL,
        {"topic": topic, "payload": Jsonb(payload), "headers": Jsonb(headers)},
    )
    row = await cursor.fetchone()
    assert row is not None
    remember(row["id"])
    return UUID(str(row["id"]))


def remember(message_id: UUID) -> None:
    """Note a row written by SQL elsewhere (a stored procedure, say)."""
    pending = _pending.get()
    if pending is not None:
        pending.ids.append(message_id)


async def after_request(pending: PendingMessages) -> None:
    if not pending.ids:
        return
    from shared import publisher  # the broker client is only needed here

    await publisher.publish_after_commit(pending.ids)
