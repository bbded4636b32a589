"""``eventscale worker`` as its own process, stopped mid-stream by SIGTERM."""

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from uuid import UUID

import psycopg

from shared import publisher
from shared.settings import Settings
from tests.conftest import TEST_JWT_SECRET
from tests.worker.conftest import (
    WAIT_SECONDS,
    RunningConsumer,
    order_confirmed,
    queue_length,
    wait_until,
)

REPO = Path(__file__).resolve().parents[2]
MESSAGES = 300


def worker_process(settings: Settings, database_url: str) -> subprocess.Popen[str]:
    assert settings.amqp_url is not None
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "JWT_SECRET": TEST_JWT_SECRET,
        "AMQP_URL": settings.amqp_url,
        "AMQP_EXCHANGE": settings.amqp_exchange,
        "AMQP_QUEUE": settings.amqp_queue,
        "EMAIL_BACKEND": "file",
        "MAIL_DIR": str(settings.mail_path),
        "WORKER_POLL_INTERVAL": "0.1",
        # The same retry queues as the test's topology, which it deletes.
        "WORKER_RETRY_DELAYS": ",".join(map(str, settings.worker_retry_delays)),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "shared.cli", "worker"],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )


def processed(database_url: str) -> int:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM processed_messages").fetchone()
    assert row is not None
    return int(row[0])


def test_sigterm_mid_stream_stops_cleanly_and_loses_no_message(
    amqp_settings: Settings,
    insert_outbox: Callable[..., UUID],
    emails: Callable[[], list[EmailMessage]],
    database_url: str,
) -> None:
    ids = [
        insert_outbox("order.confirmed", order_confirmed(f"buyer{n}@example.com", 1))
        for n in range(MESSAGES)
    ]
    assert publisher.publish_ids(ids) == MESSAGES

    worker = worker_process(amqp_settings, database_url)
    wait_until(lambda: len(emails()) > 0, "the worker's first email")
    worker.send_signal(signal.SIGTERM)
    _, log = worker.communicate(timeout=WAIT_SECONDS)

    assert worker.returncode == 0
    assert '"worker.stopping"' in log and '"worker.stopped"' in log
    # Whatever the stopped worker left is still queued for the next one.
    with RunningConsumer(amqp_settings):
        wait_until(lambda: processed(database_url) == MESSAGES, "every message")
        wait_until(
            lambda: queue_length(amqp_settings, amqp_settings.amqp_queue) == 0,
            "an empty queue",
        )
    recipients = [str(sent["To"]) for sent in emails()]
    assert sorted(recipients) == sorted(
        f"buyer{n}@example.com" for n in range(MESSAGES)
    )
