"""Handling one message exactly once, whichever way it arrived.

The message id goes into ``processed_messages`` in the same transaction as
the handler's effect: a redelivered message finds its id there and does
nothing. A concurrent duplicate waits on that row's lock until the first
commits, then finds it too. An email is sent before that commit; only a
crash between the two can send it twice, and nothing can lose it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from uuid import UUID

from pydantic import ValidationError

from functions.worker.handlers import HANDLERS
from functions.worker.schemas import Message
from shared import db, publisher
from shared.db import SyncConn
from shared.errors import AppError
from shared.logs import get_logger, request_id_var
from shared.sqlfile import load_queries

log = get_logger(__name__)
queries = load_queries(__file__)


class Outcome(Enum):
    DONE = "done"
    DUPLICATE = "duplicate"
    RETRY = "retry"
    DEAD = "dead"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    error: str | None = None
    new_message_ids: list[UUID] = field(default_factory=list)


class UnknownTopic(Exception):
    """No handler exists: retrying cannot help."""


def process(message: Message) -> Result:
    """Handle a message in a transaction of its own, then publish what it
    fanned out. Never raises: the result says what to do with the message."""
    try:
        with bound_request_id(message), db.sync_transaction() as conn:
            result = process_in(conn, message)
    except Exception as exc:
        result = failure(message, exc)
    if result.new_message_ids:
        _publish_fan_out(result.new_message_ids)
    return result


def _publish_fan_out(ids: list[UUID]) -> None:
    try:
        publisher.publish_ids(ids)
    except AppError as exc:
        # The rows are committed: the relay publishes them later.
        log.warning("outbox.publish_failed", extra={"reason": exc.error_code})


def process_in(conn: SyncConn, message: Message) -> Result:
    """Handle a message inside the caller's transaction; raises on failure."""
    handler = HANDLERS.get(message.topic)
    if handler is None:
        raise UnknownTopic(message.topic)
    claim = {"message_id": message.id, "topic": message.topic}
    if conn.execute(queries["record_processed"], claim).fetchone() is None:
        log.info("message.duplicate", extra=_fields(message))
        return Result(Outcome.DUPLICATE)
    new_ids = handler(conn, message)
    log.info("message.processed", extra=_fields(message))
    return Result(Outcome.DONE, new_message_ids=new_ids)


def failure(message: Message, exc: Exception) -> Result:
    """Poison (no handler, a payload off the contract) is dead at once;
    anything else may pass, so it is retried."""
    error = f"{type(exc).__name__}: {exc}"[:500]
    if isinstance(exc, UnknownTopic | ValidationError):
        log.warning("message.unprocessable", extra={**_fields(message), "error": error})
        return Result(Outcome.DEAD, error)
    log.warning(
        "message.failed", extra={**_fields(message), "error": error}, exc_info=exc
    )
    return Result(Outcome.RETRY, error)


@contextmanager
def bound_request_id(message: Message) -> Iterator[None]:
    """Log lines of the worker carry the id of the request that caused them."""
    token = request_id_var.set(message.request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


def _fields(message: Message) -> dict[str, object]:
    return {
        "message_id": str(message.id),
        "topic": message.topic,
        "failures": message.failures,
    }
