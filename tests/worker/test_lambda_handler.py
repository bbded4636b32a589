"""The worker's Lambda entry point: Amazon MQ batches and scheduled jobs."""

import base64
import json
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import psycopg
import pytest

from functions.worker.handler import UnknownEvent, handler
from shared import broker
from shared.settings import Settings
from tests.lambda_events import FakeLambdaContext
from tests.worker.conftest import (
    open_channel,
    order_confirmed,
    queue_length,
    text_of,
    wait_until,
)

Emails = Callable[[], list[EmailMessage]]


def as_bytes(text: str) -> dict[str, list[int]]:
    """How Amazon MQ hands a string header to Lambda."""
    return {"bytes": list(text.encode())}


def rmq_record(
    payload: Any, topic: str, *, message_id: str | None = None, attempt: int = 0
) -> dict[str, Any]:
    return {
        "basicProperties": {
            "contentType": "application/json",
            "headers": {"request_id": as_bytes("req-42"), "attempt": attempt},
            "deliveryMode": 2,
            "messageId": message_id or str(uuid.uuid4()),
            "type": topic,
            "bodySize": 80,
        },
        "redelivered": False,
        "data": base64.b64encode(json.dumps(payload).encode()).decode(),
    }


def rmq_batch(*records: dict[str, Any]) -> dict[str, Any]:
    return {
        "eventSource": "aws:rmq",
        "eventSourceArn": "arn:aws:mq:eu-west-1:123456789012:broker:test:b-1",
        "rmqMessagesByQueue": {"eventscale.work::/": list(records)},
    }


def test_a_batch_with_a_bad_message_handles_the_others_and_returns(
    amqp_settings: Settings, emails: Emails
) -> None:
    off_contract = {"order_id": "not even a uuid"}
    bad = rmq_record(off_contract, "order.confirmed")
    batch = rmq_batch(
        rmq_record(order_confirmed("one@example.com"), "order.confirmed"),
        bad,
        rmq_record(order_confirmed("two@example.com"), "order.confirmed"),
    )

    summary = handler(batch, FakeLambdaContext())

    assert summary == {"done": 2, "dead": 1}
    assert sorted(str(sent["To"]) for sent in emails()) == [
        "one@example.com",
        "two@example.com",
    ]
    dead_queue = broker.Topology.from_settings(amqp_settings).dead_queue
    with open_channel(amqp_settings) as channel:
        method, properties, _ = channel.basic_get(dead_queue, auto_ack=True)
    assert method is not None
    assert properties.message_id == bad["basicProperties"]["messageId"]
    assert properties.headers["request_id"] == "req-42"


def test_a_batch_message_that_fails_goes_to_its_retry_queue(
    amqp_settings: Settings, emails: Emails, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.worker import mailer

    def smtp_down(message: EmailMessage) -> None:
        raise ConnectionError("mail service down")

    monkeypatch.setattr(mailer, "send", smtp_down)

    summary = handler(
        rmq_batch(rmq_record(order_confirmed(), "order.confirmed", attempt=1)),
        FakeLambdaContext(),
    )

    assert summary == {"retry": 1}
    # Its retry queue's TTL hands it back to the work queue, one attempt on.
    wait_until(
        lambda: queue_length(amqp_settings, amqp_settings.amqp_queue) == 1,
        "the message back in the work queue",
    )
    with open_channel(amqp_settings) as channel:
        method, properties, _ = channel.basic_get(amqp_settings.amqp_queue)
    assert method is not None
    assert properties.headers["attempt"] == 2
    assert properties.headers["x-death"][0]["queue"].endswith(".retry.600ms")


def test_a_batch_delivered_again_sends_nothing_twice(
    amqp_settings: Settings, emails: Emails
) -> None:
    batch = rmq_batch(rmq_record(order_confirmed(), "order.confirmed"))

    handler(batch, FakeLambdaContext())
    again = handler(batch, FakeLambdaContext())

    assert again == {"duplicate": 1}
    assert len(emails()) == 1


def test_drain_queue_job_handles_what_waits_and_stops(
    amqp_settings: Settings,
    insert_outbox: Callable[..., UUID],
    emails: Emails,
) -> None:
    for _ in range(3):
        insert_outbox("order.confirmed", order_confirmed())

    relayed = handler({"job": "relay_outbox"}, FakeLambdaContext())
    drained = handler({"job": "drain_queue"}, FakeLambdaContext(remaining_ms=60_000))

    assert relayed == {"job": "relay_outbox", "published": 3}
    assert drained == {"job": "drain_queue", "done": 3}
    assert len(emails()) == 3
    assert "Night of Fugues" in text_of(emails()[0])


def test_expire_holds_job_expires_only_holds_past_their_time(
    worker_settings: Settings, database_url: str, customer: Any
) -> None:
    with psycopg.connect(database_url) as conn:
        event_id = insert_event(conn, customer.id)
        past = insert_hold(conn, customer.id, event_id, "-1 minute")
        live = insert_hold(conn, customer.id, event_id, "5 minutes")

    summary = handler({"job": "expire_holds"}, FakeLambdaContext())

    assert summary == {"job": "expire_holds", "expired": 1}
    with psycopg.connect(database_url) as conn:
        statuses: dict[UUID, str] = dict(
            conn.execute("SELECT id, status FROM reservations").fetchall()
        )
    assert statuses == {past: "expired", live: "held"}


def insert_event(conn: psycopg.Connection[Any], owner: UUID) -> UUID:
    row = conn.execute(
        "INSERT INTO events (name, venue, starts_at, currency, created_by) "
        "VALUES ('Gala', 'Hall', now() + interval '30 days', 'EUR', %s) "
        "RETURNING id",
        (owner,),
    ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def insert_hold(
    conn: psycopg.Connection[Any], user: UUID, event: UUID, expires_in: str
) -> UUID:
    row = conn.execute(
        "INSERT INTO reservations (user_id, event_id, expires_at, total_cents, "
        "currency) VALUES (%s, %s, now() + %s::interval, 0, 'EUR') RETURNING id",
        (user, event, expires_in),
    ).fetchone()
    assert row is not None
    return UUID(str(row[0]))


def test_purge_job_removes_only_what_has_expired(
    worker_settings: Settings, database_url: str, customer: Any
) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO processed_messages (message_id, topic, processed_at) VALUES "
            "(gen_random_uuid(), 'old', now() - interval '90 days'), "
            "(gen_random_uuid(), 'new', now())"
        )
        conn.execute(
            "INSERT INTO login_attempts (email, client_ip, attempted_at) VALUES "
            "('a@example.com', '1.2.3.4', now() - interval '3 days'), "
            "('a@example.com', '1.2.3.4', now())"
        )
        conn.execute(
            "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at) "
            "VALUES (%s, gen_random_uuid(), 'old', now() - interval '1 day'), "
            "(%s, gen_random_uuid(), 'new', now() + interval '1 day')",
            (customer.id, customer.id),
        )

    summary = handler({"job": "purge"}, FakeLambdaContext())

    assert summary["processed_messages"] == 1
    assert summary["login_attempts"] == 1
    assert summary["refresh_tokens"] == 1
    with psycopg.connect(database_url) as conn:
        remaining = conn.execute(
            "SELECT (SELECT count(*) FROM processed_messages), "
            "(SELECT count(*) FROM login_attempts), "
            "(SELECT count(*) FROM refresh_tokens)"
        ).fetchone()
    assert remaining == (1, 1, 1)


def test_an_event_that_is_neither_a_batch_nor_a_job_is_refused(
    worker_settings: Settings,
) -> None:
    with pytest.raises(UnknownEvent):
        handler({"job": "make_coffee"}, FakeLambdaContext())
    with pytest.raises(UnknownEvent):
        handler({"Records": []}, FakeLambdaContext())
