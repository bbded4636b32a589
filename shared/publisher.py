"""Hands outbox rows to the broker: a request's rows right after it commits,
and, from the worker's relay job, any rows that are still waiting.

A row is marked published only after the broker confirms it, in the same
transaction that locked it, so a failure anywhere leaves it for the relay.
pika (through ``shared.broker``) is imported on first publish only: HTTP
functions without a broker never load it.
"""

import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared import db
from shared.errors import AppError
from shared.logs import get_logger
from shared.settings import get_settings
from shared.sqlfile import load_queries

if TYPE_CHECKING:
    from shared.broker import Envelope, SharedChannel

log = get_logger(__name__)
queries = load_queries(__file__, "publisher.sql")

RELAY_BATCH = 200

_shared_channel: "SharedChannel | None" = None
_failed_at = float("-inf")


async def publish_after_commit(ids: list[UUID]) -> None:
    """Publish a committed request's rows; on any failure they wait for the
    relay and the request is not affected."""
    settings = get_settings()
    if not settings.amqp_url or not ids or _cooling_down():
        return
    import anyio  # only this after-commit path runs on an event loop

    try:
        async with db.transaction() as conn:
            cursor = await conn.execute(queries["claim_by_ids"], {"ids": ids})
            rows = await cursor.fetchall()
            published = await anyio.to_thread.run_sync(publish_rows, rows)
            await conn.execute(queries["mark_published"], {"ids": published})
    except AppError as exc:
        log.warning("outbox.publish_failed", extra={"reason": exc.error_code})


def publish_ids(ids: Sequence[UUID]) -> int:
    """The same as :func:`publish_after_commit`, for synchronous callers."""
    if not get_settings().amqp_url or not ids:
        return 0
    with db.sync_transaction() as conn:
        rows = conn.execute(queries["claim_by_ids"], {"ids": list(ids)}).fetchall()
        published = publish_rows(rows)
        conn.execute(queries["mark_published"], {"ids": published})
    return len(published)


def relay(batch_size: int = RELAY_BATCH) -> int:
    """Publish every row still waiting; return how many went out."""
    total = 0
    while True:
        with db.sync_transaction() as conn:
            claim = {"limit": batch_size}
            rows = conn.execute(queries["claim_unpublished"], claim).fetchall()
            published = publish_rows(rows)
            conn.execute(queries["mark_published"], {"ids": published})
        total += len(published)
        if len(published) < batch_size:
            break
    if total:
        log.info("outbox.relayed", extra={"count": total})
    return total


def publish_rows(rows: Sequence[dict[str, Any]]) -> list[UUID]:
    """Publish rows in order until one fails; return the ids confirmed."""
    if not rows:
        return []
    global _failed_at
    from shared import broker

    shared = shared_channel()
    published: list[UUID] = []
    with shared.lock:
        # A reused connection may have died unseen (a Lambda frozen between
        # invocations, a missed heartbeat): it earns one fresh try.
        tries = 2 if shared.is_open else 1
        for attempt in range(1, tries + 1):
            try:
                _publish_each(shared, rows[len(published) :], published)
                break
            except broker.BrokerError as exc:
                shared.close()
                if attempt == tries:
                    _failed_at = time.monotonic()
                    waiting = len(rows) - len(published)
                    reason = type(exc).__name__
                    fields = {"reason": reason, "waiting": waiting}
                    log.warning("outbox.broker_unavailable", extra=fields)
    return published


def _publish_each(
    shared: "SharedChannel", rows: Sequence[dict[str, Any]], published: list[UUID]
) -> None:
    from shared import broker

    channel = shared.channel()
    for row in rows:
        broker.publish(
            channel, shared.topology.exchange, row["topic"], envelope_for(row)
        )
        published.append(row["id"])


def envelope_for(row: dict[str, Any]) -> "Envelope":
    from shared.broker import ATTEMPT_HEADER, REQUEST_ID_HEADER, Envelope

    headers: dict[str, Any] = {ATTEMPT_HEADER: 0}
    request_id = (row["headers"] or {}).get("request_id")
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    body = json.dumps(row["payload"]).encode()
    return Envelope(str(row["id"]), row["topic"], body, headers)


def close() -> None:
    """Drop the process's broker connection (tests, and settings changes)."""
    global _shared_channel, _failed_at
    if _shared_channel is not None:
        _shared_channel.close()
    _shared_channel = None
    _failed_at = float("-inf")


def shared_channel() -> "SharedChannel":
    """The process's broker channel, opened on first use."""
    global _shared_channel
    settings = get_settings()
    if _shared_channel is None or _shared_channel.settings is not settings:
        from shared.broker import SharedChannel

        close()
        _shared_channel = SharedChannel(settings, settings.amqp_publish_timeout)
    return _shared_channel


def _cooling_down() -> bool:
    cooldown = get_settings().amqp_publish_cooldown
    return time.monotonic() - _failed_at < cooldown
