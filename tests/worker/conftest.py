"""Fixtures for the worker: payloads in the outbox contract, outbox rows,
the emails written to disk, and a RabbitMQ topology of each test's own."""

import email
import email.policy
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import UUID

import pika
import psycopg
import pytest
from psycopg.types.json import Jsonb

from functions.worker import consumer, mailer
from shared import broker, publisher
from shared import settings as settings_module
from shared.settings import Settings
from tests.conftest import TestEnvironment

WAIT_SECONDS = 30


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll until ``condition`` holds; the bound only stops a hung test."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def event_summary(name: str = "Night of Fugues") -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "venue": "Usher Hall, Edinburgh",
        "starts_at": "2027-03-14T19:30:00+00:00",
    }


def order_confirmed(
    email_address: str = "ada@example.com", tickets: int = 3
) -> dict[str, Any]:
    return {
        **order_refunded(email_address),
        "tickets": [
            {
                "code": f"CODE{n}-{uuid.uuid4().hex}",
                "ticket_type": "Stalls",
                "seat": f"B-{n}" if n % 2 else None,
            }
            for n in range(tickets)
        ],
    }


def order_refunded(email_address: str = "ada@example.com") -> dict[str, Any]:
    return {
        "order_id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "email": email_address,
        "full_name": "Ada Lovelace",
        "event": event_summary(),
        "total_cents": 12550,
        "currency": "GBP",
    }


def event_cancelled(buyers: int) -> dict[str, Any]:
    return {
        "event": event_summary(),
        "recipients": [
            {
                "user_id": str(uuid.uuid4()),
                "email": f"buyer{n}@example.com",
                "full_name": f"Buyer {n}",
                "order_ids": [str(uuid.uuid4())],
            }
            for n in range(buyers)
        ],
    }


@pytest.fixture
def insert_outbox(database_url: str) -> Callable[..., UUID]:
    """Write an outbox row as a service's transaction would."""

    def insert(topic: str, payload: dict[str, Any], request_id: str = "req-1") -> UUID:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "INSERT INTO outbox (topic, payload, headers) VALUES (%s, %s, %s) "
                "RETURNING id",
                (topic, Jsonb(payload), Jsonb({"request_id": request_id})),
            ).fetchone()
        assert row is not None
        return UUID(str(row[0]))

    return insert


@pytest.fixture
def worker_settings(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """Inline mode, emails as files in this test's folder, short delays."""
    configured = settings.model_copy(
        update={
            "mail_dir": tmp_path / "mail",
            "email_backend": "file",
            "worker_retry_delays": [0.3, 0.6],
            "worker_max_attempts": 3,
            "worker_poll_interval": 0.1,
        }
    )
    settings_module.configure(configured)
    mailer.ses_client.cache_clear()
    yield configured
    publisher.close()


@pytest.fixture
def amqp_settings(
    worker_settings: Settings, test_environment: TestEnvironment
) -> Iterator[Settings]:
    """A broker topology named for this test alone, deleted afterwards."""
    suffix = uuid.uuid4().hex[:10]
    configured = worker_settings.model_copy(
        update={
            "amqp_url": test_environment.amqp_url,
            "amqp_exchange": f"test.{suffix}",
            "amqp_queue": f"test.{suffix}.work",
        }
    )
    settings_module.configure(configured)
    topology = broker.Topology.from_settings(configured)
    with open_channel(configured) as channel:
        topology.declare(channel)
    yield configured
    publisher.close()
    with open_channel(configured) as channel:
        topology.delete(channel)


class open_channel:
    """A plain channel of its own, for a test to look at queues."""

    def __init__(self, settings: Settings) -> None:
        assert settings.amqp_url is not None
        self.connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))

    def __enter__(self) -> Any:
        channel = self.connection.channel()
        channel.confirm_delivery()
        return channel

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


def queue_length(settings: Settings, queue: str) -> int:
    with open_channel(settings) as channel:
        declared = channel.queue_declare(queue, passive=True)
        return int(declared.method.message_count)


class RunningConsumer:
    def __init__(self, settings: Settings) -> None:
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=consumer.consume_until_stopped, args=(settings, self.stop)
        )

    def __enter__(self) -> "RunningConsumer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(WAIT_SECONDS)
        assert not self.thread.is_alive()


@pytest.fixture
def emails(worker_settings: Settings) -> Callable[[], list[EmailMessage]]:
    """Every email the file backend has written so far, oldest first."""

    def read() -> list[EmailMessage]:
        folder = worker_settings.mail_path
        paths = sorted(folder.glob("*.eml")) if folder.exists() else []
        return [_parse(path.read_bytes()) for path in paths]

    return read


def _parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def html_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())
