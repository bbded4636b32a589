"""The RabbitMQ consumer: prefetch, an ack only after the effect commits (or
after a failed message was routed onwards), reconnection with backoff, and a
stop that finishes the message in hand first. Unacked prefetched messages go
back to the queue when the channel closes."""

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable

import pika
from pika.adapters.blocking_connection import BlockingChannel

from functions.worker import delivery
from shared import broker, publisher
from shared.errors import AppError
from shared.logs import get_logger
from shared.settings import Settings

log = get_logger(__name__)

MAX_BACKOFF_SECONDS = 30


class Consumer:
    def __init__(self, settings: Settings) -> None:
        assert settings.amqp_url is not None
        self.settings = settings
        self.topology = broker.Topology.from_settings(settings)
        self.params = broker.connection_parameters(settings.amqp_url)
        self.counts: Counter[str] = Counter()

    def run(
        self,
        should_stop: Callable[[], bool],
        tick: Callable[[], None] = lambda: None,
        *,
        stop_when_idle: bool = False,
    ) -> None:
        """Consume until ``should_stop`` says so (or, with ``stop_when_idle``,
        until the queue stays empty for one poll interval)."""
        connection = pika.BlockingConnection(self.params)
        try:
            channel = broker.open_channel(connection, self.topology)
            channel.basic_qos(prefetch_count=self.settings.worker_prefetch)
            self._consume(channel, should_stop, tick, stop_when_idle)
        finally:
            if connection.is_open:
                # A connection that broke mid-close has nothing left to lose.
                with contextlib.suppress(*broker.BrokerError):
                    connection.close()

    def _consume(
        self,
        channel: BlockingChannel,
        should_stop: Callable[[], bool],
        tick: Callable[[], None],
        stop_when_idle: bool,
    ) -> None:
        poll = self.settings.worker_poll_interval
        for method, properties, body in channel.consume(
            self.topology.queue, inactivity_timeout=poll
        ):
            if method is None and stop_when_idle:
                break
            if method is not None:
                assert properties is not None and body is not None
                self._handle(channel, method, properties, body)
            tick()
            if should_stop():
                break
        channel.cancel()

    def _handle(
        self,
        channel: BlockingChannel,
        method: pika.spec.Basic.Deliver,
        properties: pika.BasicProperties,
        body: bytes,
    ) -> None:
        envelope = delivery.from_pika(method.routing_key or "", properties, body)
        result = delivery.handle(envelope)
        delivery.settle(
            channel, self.topology, self.settings.worker_max_attempts, envelope, result
        )
        assert method.delivery_tag is not None
        channel.basic_ack(method.delivery_tag)
        self.counts[result.outcome.value] += 1


def consume_until_stopped(settings: Settings, stop: threading.Event) -> None:
    """Consume, relaying the outbox now and then, until ``stop`` is set;
    a lost broker is reconnected with growing waits."""
    consumer = Consumer(settings)
    relay = PeriodicRelay(settings.worker_relay_interval)
    backoff = 1.0
    while not stop.is_set():
        try:
            consumer.run(stop.is_set, relay)
            backoff = 1.0
        except Exception as exc:
            _report_interruption(exc, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
    log.info("worker.stopped", extra=dict(consumer.counts))


def _report_interruption(exc: Exception, retry_in: float) -> None:
    if isinstance(exc, broker.BrokerError):
        reason = type(exc).__name__
        log.warning(
            "worker.broker_lost", extra={"reason": reason, "retry_in": retry_in}
        )
    else:
        # Unacked messages go back to the queue; a fresh start may pass.
        log.exception("worker.consumer_failed", extra={"retry_in": retry_in})


class PeriodicRelay:
    """Publishes waiting outbox rows every ``interval`` seconds."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.last_run = float("-inf")

    def __call__(self) -> None:
        if time.monotonic() - self.last_run < self.interval:
            return
        self.last_run = time.monotonic()
        try:
            publisher.relay()
        except AppError as exc:
            log.warning("outbox.relay_failed", extra={"reason": exc.error_code})
