"""From a broker delivery to a handled message, and back to the broker when
it failed: to a retry queue while attempts remain, else to the dead letters.

Both the long-running consumer and the Lambda handler go through here, so a
message is treated the same whichever way it came.
"""

import base64
import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from pika.adapters.blocking_connection import BlockingChannel

from functions.worker import service
from functions.worker.schemas import Message
from functions.worker.service import Outcome, Result
from shared import broker
from shared.broker import ATTEMPT_HEADER, ERROR_HEADER, REQUEST_ID_HEADER, Envelope
from shared.logs import get_logger

log = get_logger(__name__)


def handle(envelope: Envelope) -> Result:
    try:
        message = to_message(envelope)
    except ValueError as exc:
        log.warning("message.malformed", extra={"message_id": envelope.message_id})
        return Result(Outcome.DEAD, f"malformed message: {exc}")
    return service.process(message)


def to_message(envelope: Envelope) -> Message:
    payload = json.loads(envelope.body)
    if not isinstance(payload, dict):
        raise ValueError("the body is not a JSON object")
    request_id = envelope.headers.get(REQUEST_ID_HEADER)
    return Message(
        id=UUID(envelope.message_id),
        topic=envelope.topic,
        payload=payload,
        request_id=str(request_id) if request_id else None,
        failures=failures_so_far(envelope),
    )


def failures_so_far(envelope: Envelope) -> int:
    try:
        return max(0, int(envelope.headers.get(ATTEMPT_HEADER) or 0))
    except (TypeError, ValueError):
        return 0


def settle(
    channel: BlockingChannel,
    topology: broker.Topology,
    max_attempts: int,
    envelope: Envelope,
    result: Result,
) -> None:
    """Route a failed message onwards; the caller acks the delivery after."""
    if result.outcome in (Outcome.DONE, Outcome.DUPLICATE):
        return
    failures = failures_so_far(envelope) + 1
    headers = {ATTEMPT_HEADER: failures, ERROR_HEADER: result.error or ""}
    if envelope.headers.get(REQUEST_ID_HEADER):
        headers[REQUEST_ID_HEADER] = envelope.headers[REQUEST_ID_HEADER]
    onward = Envelope(envelope.message_id, envelope.topic, envelope.body, headers)
    fields = {"message_id": envelope.message_id, "topic": envelope.topic}
    if result.outcome is Outcome.DEAD or failures >= max_attempts:
        broker.publish(channel, "", topology.dead_queue, onward)
        log.warning("message.dead_lettered", extra={**fields, "failures": failures})
    else:
        broker.publish(channel, "", topology.retry_queue(failures), onward)
        log.info("message.retry_scheduled", extra={**fields, "failures": failures})


def from_pika(routing_key: str, properties: Any, body: bytes) -> Envelope:
    return Envelope(
        message_id=properties.message_id or "",
        topic=properties.type or routing_key,
        body=body,
        headers=dict(properties.headers or {}),
    )


def from_rmq_record(record: Mapping[str, Any]) -> Envelope:
    """A message of an Amazon MQ (``aws:rmq``) batch: base64 data, and
    headers whose strings arrive as byte arrays."""
    properties = record.get("basicProperties") or {}
    headers = _plain(properties.get("headers") or {})
    return Envelope(
        message_id=properties.get("messageId") or "",
        topic=properties.get("type") or "",
        body=base64.b64decode(record.get("data") or ""),
        headers=headers if isinstance(headers, dict) else {},
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"bytes"}:
            return bytes(value["bytes"]).decode("utf-8", "replace")
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
