"""Running the worker as a long-lived process (``eventscale worker``) or in
a thread beside the local API (``make run``).

With ``AMQP_URL`` it consumes from RabbitMQ and relays the outbox now and
then; without it, it handles outbox rows in-process (inline mode).
"""

import signal
import threading
from types import FrameType

from functions.worker import consumer, inline
from shared import db, publisher
from shared.logs import get_logger
from shared.settings import get_settings

log = get_logger(__name__)


def run(stop: threading.Event) -> None:
    """Work until ``stop`` is set, finishing the message in hand."""
    settings = get_settings()
    mode = "broker" if settings.amqp_url else "inline"
    log.info("worker.started", extra={"mode": mode})
    try:
        if settings.amqp_url:
            consumer.consume_until_stopped(settings, stop)
        else:
            inline.run(stop)
    finally:
        publisher.close()


def main() -> None:
    if not get_settings().database_url:
        raise SystemExit("eventscale worker: DATABASE_URL is not set")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("worker.stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        run(stop)
    finally:
        db.close_sync_pool()
