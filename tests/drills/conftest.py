"""Fixtures for failure drills: breaking the machine's real PostgreSQL and
RabbitMQ on purpose, each drill on what belongs to this test run alone."""

import shutil
import subprocess
import uuid
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import psycopg
import pytest

from shared import broker
from shared import settings as settings_module
from shared.settings import Settings

# The selling and worker fixtures, shared rather than copied.
from tests.sales.conftest import make_event  # noqa: F401
from tests.worker.conftest import (  # noqa: F401
    amqp_settings,
    emails,
    insert_outbox,
    open_channel,
    worker_settings,
)

RABBITMQCTL_SECONDS = 60

# Only this run's database, and only the app's own connections.
TERMINATE_APP_CONNECTIONS = (
    b"SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
    b"FROM pg_stat_activity "
    b"WHERE datname = current_database() AND application_name = 'eventscale' "
    b"AND pid <> pg_backend_pid()"
)


def terminate_app_connections(database_url: str) -> int:
    """Kill every connection the app holds to this database; how many died."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(TERMINATE_APP_CONNECTIONS).fetchone()
    assert row is not None
    return int(row[0])


def rabbitmqctl(*arguments: str) -> None:
    subprocess.run(
        ["rabbitmqctl", *arguments],
        check=True,
        capture_output=True,
        timeout=RABBITMQCTL_SECONDS,
    )


def close_vhost_connections(vhost: str) -> None:
    rabbitmqctl("close_all_connections", "--vhost", vhost, "drill")


def url_with_vhost(amqp_url: str, vhost: str) -> str:
    return urlsplit(amqp_url)._replace(path="/" + quote(vhost, safe="")).geturl()


@pytest.fixture
def drill_vhost() -> Iterator[str]:
    """A RabbitMQ virtual host of this drill's own, so that closing its
    connections disturbs nobody else on the shared broker."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not on PATH: the broker drill needs it")
    vhost = f"eventscale-drill-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield vhost
    finally:
        rabbitmqctl("delete_vhost", vhost)


@pytest.fixture
def drill_broker(
    amqp_settings: Settings,  # noqa: F811
    drill_vhost: str,
) -> Iterator[Settings]:
    """The worker's settings pointed at the drill's vhost, with its topology,
    relaying the outbox every half second."""
    assert amqp_settings.amqp_url is not None
    configured = amqp_settings.model_copy(
        update={
            "amqp_url": url_with_vhost(amqp_settings.amqp_url, drill_vhost),
            "worker_relay_interval": 0.5,
        }
    )
    settings_module.configure(configured)
    with open_channel(configured) as channel:
        broker.Topology.from_settings(configured).declare(channel)
    yield configured
