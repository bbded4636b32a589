"""Drill: the broker closes every connection while orders stream in.

Buyers keep buying through the HTTP app, which publishes each order's
message after commit, while the worker consumes; twice, mid-stream,
``rabbitmqctl close_all_connections`` drops the publisher's and the
consumer's connections (in a vhost of the drill's own). Both come back on
their own, the outbox relay publishes whatever could not go out, and every
buyer gets exactly one confirmation email.
"""

from collections.abc import Callable
from email.message import EmailMessage

import psycopg
import pytest
from fastapi.testclient import TestClient

from shared.settings import Settings
from tests.conftest import TestUser
from tests.drills.conftest import close_vhost_connections
from tests.sales.conftest import EventFactory, Json, items
from tests.worker.conftest import RunningConsumer, queue_length, wait_until

ORDERS = 24
THIRDS = 3


def buy_one_each(client: TestClient, event: Json, buyers: list[TestUser]) -> None:
    for buyer in buyers:
        response = client.post(
            f"/events/{event['id']}/purchase",
            json=items(event, 1),
            headers=buyer.headers,
        )
        assert response.status_code == 201, response.text


def handled_everything(settings: Settings, database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            b"SELECT count(*) FILTER (WHERE published_at IS NULL), "
            b"(SELECT count(*) FROM processed_messages) FROM outbox"
        ).fetchone()
    assert row is not None
    waiting, processed = row
    queued = queue_length(settings, settings.amqp_queue)
    return waiting == 0 and queued == 0 and processed == ORDERS


def test_broker_connections_closed_mid_stream_lose_and_repeat_no_email(
    client: TestClient,
    drill_broker: Settings,
    drill_vhost: str,
    database_url: str,
    make_event: EventFactory,
    make_user: Callable[..., TestUser],
    emails: Callable[[], list[EmailMessage]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = make_event(
        ticket_types=[{"name": "General", "price_cents": 2500, "quantity": 100}]
    )
    buyers = [make_user("customer") for _ in range(ORDERS)]
    thirds = [buyers[n::THIRDS] for n in range(THIRDS)]

    with RunningConsumer(drill_broker):
        for third in thirds[:-1]:
            buy_one_each(client, event, third)
            close_vhost_connections(drill_vhost)
        buy_one_each(client, event, thirds[-1])
        wait_until(
            lambda: handled_everything(drill_broker, database_url), "every message"
        )

    recipients = sorted(str(sent["To"]) for sent in emails())
    assert recipients == sorted(buyer.email for buyer in buyers)
    assert "worker.broker_lost" in caplog.messages
