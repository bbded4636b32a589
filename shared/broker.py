"""The RabbitMQ client side shared by publishers and the worker.

The topology, declared idempotently by whichever process connects first:

- ``AMQP_EXCHANGE``: a durable topic exchange; outbox rows are published to
  it with their topic as routing key.
- ``AMQP_QUEUE``: the durable quorum work queue, bound to every routing key,
  so that a message type nobody handles reaches the worker, which
  dead-letters it where a person can see it, instead of vanishing unrouted.
- ``AMQP_QUEUE.retry.<n>ms``: one queue per retry delay. A failed message is
  published to one of them; when its TTL runs out the broker dead-letters it
  back to the work queue. The delay is in the name, so changing the delays
  declares new queues instead of clashing with the old ones' arguments.
- ``AMQP_QUEUE.dead``: messages that failed too often or cannot be handled.
"""

import threading
from dataclasses import dataclass
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import PERSISTENT_DELIVERY_MODE

from shared.logs import get_logger
from shared.settings import Settings

log = get_logger(__name__)

CONNECT_TIMEOUT_SECONDS = 3
ATTEMPT_HEADER = "attempt"
REQUEST_ID_HEADER = "request_id"
ERROR_HEADER = "error"
# Redeliveries without an ack (a worker killed mid-message, again and again)
# after which the broker itself dead-letters: a safety net, not the retry
# policy, which counts attempts in a header.
DELIVERY_LIMIT = 20

# What a broker that went away looks like to pika's blocking client.
BrokerError: tuple[type[BaseException], ...] = (
    pika.exceptions.AMQPError,
    OSError,
)


def connection_parameters(
    amqp_url: str, timeout: float = CONNECT_TIMEOUT_SECONDS
) -> pika.URLParameters:
    params = pika.URLParameters(amqp_url)
    params.socket_timeout = timeout
    params.stack_timeout = timeout * 2
    params.blocked_connection_timeout = timeout * 10
    params.connection_attempts = 1
    return params


def ping(amqp_url: str) -> bool:
    """Open and close one connection: can the broker be reached at all?"""
    try:
        connection = pika.BlockingConnection(connection_parameters(amqp_url))
    except pika.exceptions.AMQPError as exc:
        log.warning("broker.unreachable", extra={"reason": type(exc).__name__})
        return False
    connection.close()
    return True


@dataclass(frozen=True)
class Topology:
    exchange: str
    queue: str
    retry_delays_ms: tuple[int, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> "Topology":
        delays = tuple(round(delay * 1000) for delay in settings.worker_retry_delays)
        return cls(settings.amqp_exchange, settings.amqp_queue, delays)

    @property
    def dead_queue(self) -> str:
        return f"{self.queue}.dead"

    @property
    def retry_queues(self) -> list[str]:
        return [self.retry_queue(n) for n in range(1, len(self.retry_delays_ms) + 1)]

    def retry_queue(self, failures: int) -> str:
        """Where a message waits after its ``failures``-th failure."""
        delay = self.retry_delays_ms[min(failures, len(self.retry_delays_ms)) - 1]
        return f"{self.queue}.retry.{delay}ms"

    def declare(self, channel: BlockingChannel) -> None:
        channel.exchange_declare(self.exchange, "topic", durable=True)
        channel.queue_declare(
            self.queue,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": self.dead_queue,
            },
        )
        channel.queue_bind(self.queue, self.exchange, routing_key="#")
        channel.queue_declare(
            self.dead_queue, durable=True, arguments={"x-queue-type": "quorum"}
        )
        for name, delay in zip(self.retry_queues, self.retry_delays_ms, strict=True):
            arguments = _retry_args(self, delay)
            channel.queue_declare(name, durable=True, arguments=arguments)

    def delete(self, channel: BlockingChannel) -> None:
        """Remove everything ``declare`` made (tests and benchmarks)."""
        for name in [self.queue, self.dead_queue, *self.retry_queues]:
            channel.queue_delete(name)
        channel.exchange_delete(self.exchange)


def _retry_args(topology: Topology, delay_ms: int) -> dict[str, Any]:
    return {
        "x-message-ttl": delay_ms,
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": topology.queue,
    }


@dataclass(frozen=True)
class Envelope:
    """One message as it travels: the outbox row's id, topic and payload."""

    message_id: str
    topic: str
    body: bytes
    headers: dict[str, Any]

    def properties(self) -> pika.BasicProperties:
        return pika.BasicProperties(
            message_id=self.message_id,
            type=self.topic,
            content_type="application/json",
            delivery_mode=PERSISTENT_DELIVERY_MODE,
            headers=self.headers,
        )


def publish(
    channel: BlockingChannel, exchange: str, routing_key: str, envelope: Envelope
) -> None:
    """Publish and wait for the broker's confirm (the channel is in confirm
    mode); raises if the broker refuses or goes away."""
    channel.basic_publish(exchange, routing_key, envelope.body, envelope.properties())


class SharedChannel:
    """One connection and confirm-mode channel per process, reused across
    Lambda invocations and reopened when it died. pika's blocking client is
    not thread-safe, so callers hold ``lock`` while they use it."""

    def __init__(self, settings: Settings, timeout: float) -> None:
        self.settings = settings
        self.topology = Topology.from_settings(settings)
        self.lock = threading.Lock()
        self._timeout = timeout
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    @property
    def is_open(self) -> bool:
        return self._channel is not None and self._channel.is_open

    def channel(self) -> BlockingChannel:
        if self._channel is None or not self._channel.is_open:
            self.close()
            assert self.settings.amqp_url is not None
            params = connection_parameters(self.settings.amqp_url, self._timeout)
            self._connection = pika.BlockingConnection(params)
            self._channel = open_channel(self._connection, self.topology)
        return self._channel

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except BrokerError:
                log.debug("broker.close_failed")


def open_channel(
    connection: pika.BlockingConnection, topology: Topology
) -> BlockingChannel:
    channel = connection.channel()
    channel.confirm_delivery()
    topology.declare(channel)
    return channel
