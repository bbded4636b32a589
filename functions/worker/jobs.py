"""Scheduled jobs, each run by a schedule trigger with ``{"job": name}``."""

import time
from collections.abc import Callable
from typing import Protocol

from functions.worker import inline
from functions.worker.consumer import Consumer
from shared import db, publisher
from shared.logs import get_logger
from shared.settings import get_settings
from shared.sqlfile import load_queries

log = get_logger(__name__)
queries = load_queries(__file__)


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


Summary = dict[str, int]
Job = Callable[[LambdaContext], Summary]


def relay_outbox(context: LambdaContext) -> Summary:
    return {"published": publisher.relay()}


EXPIRE_BATCH = 1000


def expire_holds(context: LambdaContext) -> Summary:
    expired = 0
    while True:  # in batches, so that no one transaction holds locks for long
        with db.sync_transaction() as conn:
            cursor = conn.execute(queries["expire_holds"], {"limit": EXPIRE_BATCH})
            row = cursor.fetchone()
        assert row is not None
        batch = int(row["expired"])
        expired += batch
        if batch < EXPIRE_BATCH:
            break
    if expired:
        log.info("reservations.expired", extra={"count": expired})
    return {"expired": expired}


def purge(context: LambdaContext) -> Summary:
    settings = get_settings()
    steps = {
        "idempotency_keys": ("purge_idempotency_keys", {}),
        "login_attempts": (
            "purge_login_attempts",
            {"hours": settings.purge_login_attempts_hours},
        ),
        "refresh_tokens": ("purge_refresh_tokens", {}),
        "processed_messages": (
            "purge_processed_messages",
            {"days": settings.purge_processed_messages_days},
        ),
        "outbox": (
            "purge_published_outbox",
            {"days": settings.purge_processed_messages_days},
        ),
    }
    with db.sync_transaction() as conn:
        removed = {
            what: conn.execute(queries[name], params).rowcount
            for what, (name, params) in steps.items()
        }
    log.info("purge.done", extra=removed)
    return removed


def drain_queue(context: LambdaContext) -> Summary:
    """For a broker with no Lambda trigger: consume until the queue is empty
    or the invocation's time runs short, whichever comes first."""
    settings = get_settings()
    remaining = context.get_remaining_time_in_millis() / 1000
    deadline = time.monotonic() + remaining - settings.worker_drain_margin
    if not settings.amqp_url:
        return {"done": inline.handle_due()}
    consumer = Consumer(settings)
    consumer.run(lambda: time.monotonic() >= deadline, stop_when_idle=True)
    return dict(consumer.counts)


JOBS: dict[str, Job] = {
    "relay_outbox": relay_outbox,
    "expire_holds": expire_holds,
    "drain_queue": drain_queue,
    "purge": purge,
}
