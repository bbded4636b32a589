"""Real-shaped AWS events for invoking handlers as Lambda would."""

import base64
import json
from dataclasses import dataclass
from typing import Any


@dataclass
class FakeLambdaContext:
    function_name: str = "eventscale-test"
    aws_request_id: str = "lambda-request-0001"
    memory_limit_in_mb: int = 512
    remaining_ms: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def http_api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: str = "",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) request."""
    raw_body = None if body is None else json.dumps(body)
    all_headers = {"host": "api.example.com", "user-agent": "pytest"}
    if raw_body is not None:
        all_headers["content-type"] = "application/json"
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "pytest",
            },
            "requestId": "gateway-request-0001",
            "routeKey": "$default",
            "stage": "$default",
            "time": "03/Dec/2026:12:00:00 +0000",
            "timeEpoch": 1796299200000,
        },
        "body": None
        if raw_body is None
        else base64.b64encode(raw_body.encode()).decode(),
        "isBase64Encoded": raw_body is not None,
    }


def rabbitmq_event(
    queue: str, messages: list[dict[str, Any]], *, redelivered: bool = False
) -> dict[str, Any]:
    """An Amazon MQ for RabbitMQ batch (``aws:rmq``). Each message is
    ``{"message_id", "type", "body", "headers"}``; string headers arrive as
    byte lists, as Lambda delivers them."""
    return {
        "eventSource": "aws:rmq",
        "eventSourceArn": "arn:aws:mq:eu-west-1:123456789012:broker:eventscale:"
        "b-1234abcd-12ab-34cd-56ef-1234567890ab",
        "rmqMessagesByQueue": {
            f"{queue}::/": [
                _rabbitmq_message(message, redelivered) for message in messages
            ]
        },
    }


def _rabbitmq_message(message: dict[str, Any], redelivered: bool) -> dict[str, Any]:
    body = json.dumps(message["body"]).encode()
    headers = {
        name: {"bytes": list(value.encode())} if isinstance(value, str) else value
        for name, value in message.get("headers", {}).items()
    }
    return {
        "basicProperties": {
            "contentType": "application/json",
            "contentEncoding": None,
            "headers": headers,
            "deliveryMode": 2,
            "priority": None,
            "correlationId": None,
            "replyTo": None,
            "expiration": None,
            "messageId": message["message_id"],
            "timestamp": "Dec 3, 2026, 12:00:00 PM",
            "type": message["type"],
            "userId": None,
            "appId": "eventscale",
            "clusterId": None,
            "bodySize": len(body),
        },
        "redelivered": redelivered,
        "data": base64.b64encode(body).decode(),
    }
