"""The RabbitMQ client side shared by publishers and the worker."""

import pika
import pika.exceptions

from shared.logs import get_logger

log = get_logger(__name__)

CONNECT_TIMEOUT_SECONDS = 3


def connection_parameters(amqp_url: str) -> pika.URLParameters:
    params = pika.URLParameters(amqp_url)
    params.socket_timeout = CONNECT_TIMEOUT_SECONDS
    params.blocked_connection_timeout = CONNECT_TIMEOUT_SECONDS * 10
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
