"""Without a broker (local runs): the worker takes due outbox rows straight
from the table, through the same handlers, and marks them handled.

Each row is claimed, handled and marked in one transaction; the handler runs
in a savepoint, so that a failure rolls back its effect but keeps the claim,
and the failure is counted on the row: retried after a growing delay, then
set aside as dead-lettered.
"""

import threading
from typing import Any
from uuid import UUID

from functions.worker import service
from functions.worker.schemas import Message
from shared import db
from shared.db import SyncConn
from shared.errors import AppError
from shared.logs import get_logger
from shared.settings import get_settings

log = get_logger(__name__)
queries = service.queries

BATCH = 100


def run(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            handled = handle_due()
        except AppError as exc:
            log.warning("worker.inline_failed", extra={"reason": exc.error_code})
            handled = 0
        except Exception:
            # Beside the local API the worker must outlive its own bugs.
            log.exception("worker.inline_crashed")
            handled = 0
        if not handled:
            stop.wait(get_settings().worker_poll_interval)


def handle_due(limit: int = BATCH) -> int:
    """Handle up to ``limit`` due rows; return how many there were."""
    count = 0
    while count < limit and handle_next():
        count += 1
    return count


def handle_next() -> bool:
    with db.sync_transaction() as conn:
        row = conn.execute(queries["claim_next_inline"]).fetchone()
        if row is None:
            return False
        message = message_from_row(row)
        try:
            with service.bound_request_id(message), conn.transaction():
                service.process_in(conn, message)
        except Exception as exc:
            _record_failure(conn, row, service.failure(message, exc))
        else:
            conn.execute(queries["mark_handled_inline"], {"id": row["id"]})
    return True


def message_from_row(row: dict[str, Any]) -> Message:
    return Message(
        id=UUID(str(row["id"])),
        topic=row["topic"],
        payload=row["payload"],
        request_id=(row["headers"] or {}).get("request_id"),
        failures=row["attempts"],
    )


def _record_failure(
    conn: SyncConn, row: dict[str, Any], result: service.Result
) -> None:
    settings = get_settings()
    failures = row["attempts"] + 1
    dead = (
        result.outcome is service.Outcome.DEAD
        or failures >= settings.worker_max_attempts
    )
    delays = settings.worker_retry_delays
    conn.execute(
        queries["record_inline_failure"],
        {
            "id": row["id"],
            "error": result.error,
            "delay_seconds": delays[min(failures, len(delays)) - 1],
            "dead": dead,
        },
    )
    if dead:
        fields = {"message_id": str(row["id"]), "failures": failures}
        log.warning("message.dead_lettered", extra=fields)
