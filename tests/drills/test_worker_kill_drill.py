"""Drill: ``eventscale worker`` is killed with SIGKILL in the middle of a
message, with no chance to finish or to say goodbye.

The drill holds the message's row in ``processed_messages`` in a transaction
of its own, so that the worker is caught between taking the message and
doing its work; then it kills the worker. The broker hands the unacked
message out again, and the next worker sends its email, once.
"""

from collections.abc import Callable
from email.message import EmailMessage
from uuid import UUID

import psycopg

from shared import publisher
from shared.settings import Settings
from tests.worker.conftest import (
    WAIT_SECONDS,
    RunningConsumer,
    order_confirmed,
    queue_length,
    wait_until,
)
from tests.worker.test_worker_process import processed, worker_process

OTHERS = 5

WAITING_ON_A_LOCK = (
    b"SELECT count(*) FROM pg_stat_activity "
    b"WHERE datname = current_database() AND application_name = 'eventscale' "
    b"AND wait_event_type = 'Lock'"
)


def claim_first(database_url: str, message_id: UUID) -> psycopg.Connection:
    """An open transaction holding the message's processed row, uncommitted:
    a worker claiming the same message waits for it."""
    blocker = psycopg.connect(database_url)
    blocker.execute(
        b"INSERT INTO processed_messages (message_id, topic) "
        b"VALUES (%s, 'order.confirmed')",
        (message_id,),
    )
    return blocker


def waiting_on_a_lock(database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(WAITING_ON_A_LOCK).fetchone()
    return row is not None and row[0] > 0


def test_a_worker_killed_mid_message_leaves_it_redelivered_and_emailed_once(
    amqp_settings: Settings,
    insert_outbox: Callable[..., UUID],
    emails: Callable[[], list[EmailMessage]],
    database_url: str,
) -> None:
    victim = insert_outbox("order.confirmed", order_confirmed("victim@example.com"))
    others = [
        insert_outbox("order.confirmed", order_confirmed(f"other{n}@example.com"))
        for n in range(OTHERS)
    ]
    assert publisher.publish_ids([victim, *others]) == OTHERS + 1

    blocker = claim_first(database_url, victim)
    try:
        worker = worker_process(amqp_settings, database_url)
        wait_until(lambda: waiting_on_a_lock(database_url), "the worker mid-message")
        worker.kill()
        worker.communicate(timeout=WAIT_SECONDS)
    finally:
        blocker.rollback()
        blocker.close()

    assert emails() == [], "the killed worker got as far as an email"
    with RunningConsumer(amqp_settings):
        wait_until(lambda: processed(database_url) == OTHERS + 1, "every message")
        wait_until(
            lambda: queue_length(amqp_settings, amqp_settings.amqp_queue) == 0,
            "an empty queue",
        )
    recipients = sorted(str(sent["To"]) for sent in emails())
    assert recipients == sorted(
        ["victim@example.com", *(f"other{n}@example.com" for n in range(OTHERS))]
    )
