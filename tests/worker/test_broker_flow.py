"""Outbox rows through the real RabbitMQ to emails, exactly once."""

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import psycopg
import pytest

from functions.worker import handlers, mailer
from functions.worker.schemas import Message
from shared import broker, db, publisher
from shared import settings as settings_module
from shared.db import SyncConn
from shared.settings import Settings
from tests.worker.conftest import (
    RunningConsumer,
    event_cancelled,
    html_of,
    open_channel,
    order_confirmed,
    order_refunded,
    queue_length,
    text_of,
    wait_until,
)
from tests.worker.proxy import CuttableProxy

Emails = Callable[[], list[EmailMessage]]
InsertOutbox = Callable[..., UUID]


def unpublished(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_confirmed_order_sends_one_email_with_every_ticket_code_and_seat(
    amqp_settings: Settings, insert_outbox: InsertOutbox, emails: Emails
) -> None:
    payload = order_confirmed(tickets=4)
    message_id = insert_outbox("order.confirmed", payload)

    assert publisher.publish_ids([message_id]) == 1
    with RunningConsumer(amqp_settings):
        wait_until(lambda: len(emails()) == 1, "the confirmation email")

    [sent] = emails()
    text, html = text_of(sent), html_of(sent)
    assert sent["To"] == "ada@example.com"
    assert sent["Subject"] == "Your tickets for Night of Fugues"
    for ticket in payload["tickets"]:
        assert ticket["code"] in text
        assert ticket["code"] in html
    assert "seat B-1" in text and "seat B-3" in text
    assert "Usher Hall, Edinburgh" in text
    assert "Sunday 14 March 2027, 19:30" in text
    assert "125.50 GBP" in text


def test_a_message_delivered_twice_sends_one_email(
    amqp_settings: Settings,
    insert_outbox: InsertOutbox,
    emails: Emails,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO", logger="functions.worker")
    message_id = insert_outbox("order.confirmed", order_confirmed())
    with db.sync_transaction() as conn:
        row = conn.execute(
            "SELECT id, topic, payload, headers FROM outbox WHERE id = %s",
            (message_id,),
        ).fetchone()
    assert row is not None
    envelope = publisher.envelope_for(row)
    with open_channel(amqp_settings) as channel:
        for _ in range(2):
            broker.publish(channel, amqp_settings.amqp_exchange, row["topic"], envelope)

    with RunningConsumer(amqp_settings):
        wait_until(
            lambda: "message.duplicate" in caplog.messages, "the second delivery"
        )
    assert len(emails()) == 1


def test_rows_wait_while_the_broker_is_down_and_all_emails_go_out_after_relay(
    amqp_settings: Settings,
    insert_outbox: InsertOutbox,
    emails: Emails,
    database_url: str,
) -> None:
    ids = [insert_outbox("order.confirmed", order_confirmed()) for _ in range(5)]
    dead_broker = amqp_settings.model_copy(
        update={"amqp_url": "amqp://guest:guest@127.0.0.1:1/%2F"}
    )
    settings_module.configure(dead_broker)

    asyncio.run(publish_after_commit_then_close(ids))
    assert unpublished(database_url) == 5

    settings_module.configure(amqp_settings)
    assert publisher.relay() == 5
    with RunningConsumer(amqp_settings):
        wait_until(lambda: len(emails()) == 5, "every confirmation email")
    assert unpublished(database_url) == 0


async def publish_after_commit_then_close(ids: list[UUID]) -> None:
    try:
        await publisher.publish_after_commit(ids)
    finally:
        await db.close_pools()


def test_a_failing_message_is_retried_with_delay_then_dead_lettered_while_others_flow(
    amqp_settings: Settings,
    insert_outbox: InsertOutbox,
    emails: Emails,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[float] = []

    def broken(conn: SyncConn, message: Message) -> list[UUID]:
        attempts.append(time.monotonic())
        raise RuntimeError("the refund template is broken")

    monkeypatch.setitem(handlers.HANDLERS, "order.refunded", broken)
    poison = insert_outbox("order.refunded", order_refunded())
    good = [insert_outbox("order.confirmed", order_confirmed()) for _ in range(3)]

    publisher.publish_ids([poison, *good])
    dead_queue = broker.Topology.from_settings(amqp_settings).dead_queue
    with RunningConsumer(amqp_settings):
        wait_until(lambda: len(emails()) == 3, "the other messages' emails")
        wait_until(
            lambda: queue_length(amqp_settings, dead_queue) == 1, "a dead letter"
        )

    assert len(attempts) == amqp_settings.worker_max_attempts
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    # Lower bounds only: a slow machine makes gaps longer, never shorter.
    assert gaps[0] >= 0.3 * 0.9
    assert gaps[1] >= 0.6 * 0.9
    dead = first_message(amqp_settings, dead_queue)
    assert dead["message_id"] == str(poison)
    assert dead["headers"]["attempt"] == amqp_settings.worker_max_attempts
    assert "the refund template is broken" in dead["headers"]["error"]


def first_message(settings: Settings, queue: str) -> dict[str, Any]:
    with open_channel(settings) as channel:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
    assert method is not None
    return {
        "message_id": properties.message_id,
        "headers": properties.headers,
        "payload": json.loads(body),
    }


def test_an_unknown_message_type_is_dead_lettered_at_once(
    amqp_settings: Settings, insert_outbox: InsertOutbox
) -> None:
    unknown = insert_outbox("order.teleported", {"order_id": "x"})

    publisher.publish_ids([unknown])
    dead_queue = broker.Topology.from_settings(amqp_settings).dead_queue
    with RunningConsumer(amqp_settings):
        wait_until(
            lambda: queue_length(amqp_settings, dead_queue) == 1, "a dead letter"
        )

    dead = first_message(amqp_settings, dead_queue)
    assert dead["message_id"] == str(unknown)
    assert dead["headers"]["attempt"] == 1


def test_event_cancellation_emails_every_buyer_once_despite_a_failure_halfway(
    amqp_settings: Settings,
    insert_outbox: InsertOutbox,
    emails: Emails,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_send = mailer.send
    failed: list[str] = []

    def flaky_send(message: EmailMessage) -> None:
        if message["To"] == "buyer3@example.com" and not failed:
            failed.append(message["To"])
            raise ConnectionError("SES is having a moment")
        real_send(message)

    monkeypatch.setattr(mailer, "send", flaky_send)
    cancellation = insert_outbox("event.cancelled", event_cancelled(buyers=6))

    publisher.publish_ids([cancellation])
    with RunningConsumer(amqp_settings):
        wait_until(lambda: len(emails()) == 6, "one email per buyer")
        time.sleep(1)  # room for any duplicate to show up before counting

    recipients = sorted(str(message["To"]) for message in emails())
    assert recipients == [f"buyer{n}@example.com" for n in range(6)]
    assert failed == ["buyer3@example.com"]


def test_after_commit_publishing_sends_each_row_once_with_its_id_and_request(
    amqp_settings: Settings, insert_outbox: InsertOutbox, database_url: str
) -> None:
    message_id = insert_outbox("user.registered", {"user_id": "u"}, "req-77")

    asyncio.run(publish_after_commit_then_close([message_id]))
    asyncio.run(publish_after_commit_then_close([message_id]))

    assert unpublished(database_url) == 0
    assert queue_length(amqp_settings, amqp_settings.amqp_queue) == 1
    sent = first_message(amqp_settings, amqp_settings.amqp_queue)
    assert sent["message_id"] == str(message_id)
    assert sent["headers"]["request_id"] == "req-77"
    assert sent["payload"] == {"user_id": "u"}


def test_relays_running_at_once_publish_every_row_exactly_once(
    amqp_settings: Settings, insert_outbox: InsertOutbox, database_url: str
) -> None:
    for _ in range(120):
        insert_outbox("order.refunded", order_refunded())
    counts: list[int] = []

    def relay() -> None:
        counts.append(publisher.relay(batch_size=10))

    relays = [threading.Thread(target=relay) for _ in range(4)]
    for thread in relays:
        thread.start()
    for thread in relays:
        thread.join()

    assert sum(counts) == 120
    assert unpublished(database_url) == 0
    assert queue_length(amqp_settings, amqp_settings.amqp_queue) == 120


def test_the_consumer_reconnects_after_losing_the_broker(
    amqp_settings: Settings,
    insert_outbox: InsertOutbox,
    emails: Emails,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert amqp_settings.amqp_url is not None
    proxy = CuttableProxy(amqp_settings.amqp_url)
    through_proxy = amqp_settings.model_copy(update={"amqp_url": proxy.url})
    try:
        with RunningConsumer(through_proxy):
            publisher.publish_ids([insert_outbox("order.confirmed", order_confirmed())])
            wait_until(lambda: len(emails()) == 1, "the first email")

            proxy.cut()
            publisher.publish_ids([insert_outbox("order.refunded", order_refunded())])
            wait_until(lambda: len(emails()) == 2, "an email after reconnecting")
    finally:
        proxy.close()
    assert "worker.broker_lost" in caplog.messages


def test_publishing_survives_a_connection_that_died_since_its_last_use(
    amqp_settings: Settings, insert_outbox: InsertOutbox, database_url: str
) -> None:
    assert amqp_settings.amqp_url is not None
    proxy = CuttableProxy(amqp_settings.amqp_url)
    settings_module.configure(amqp_settings.model_copy(update={"amqp_url": proxy.url}))
    try:
        assert publisher.publish_ids([insert_outbox("user.registered", {})]) == 1
        proxy.cut()  # as when a Lambda container is frozen, then thawed
        assert publisher.publish_ids([insert_outbox("user.registered", {})]) == 1
    finally:
        publisher.close()
        proxy.close()
    assert unpublished(database_url) == 0
    assert queue_length(amqp_settings, amqp_settings.amqp_queue) == 2
