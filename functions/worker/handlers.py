"""One handler per message topic. Each runs inside the transaction that
records the message as processed, and returns the ids of any outbox rows it
wrote, to be published once that transaction commits.

An event's cancellation fans out: its handler writes one ``email.*`` row per
buyer, with ids derived from the message and the buyer, in the transaction
that marks the cancellation processed; each row is then a message of its
own, handled (and retried) alone. A failure at the hundredth buyer therefore
resends to nobody: the first ninety-nine are already processed messages.
"""

import uuid
from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from functions.worker import emails, mailer
from functions.worker.schemas import (
    CancellationNotice,
    EventCancelled,
    Message,
    OrderConfirmed,
    OrderRefunded,
    UserRegistered,
)
from shared.db import SyncConn
from shared.logs import get_logger
from shared.sqlfile import load_queries

log = get_logger(__name__)
queries = load_queries(__file__)

Handler = Callable[[SyncConn, Message], list[UUID]]
PayloadT = TypeVar("PayloadT", bound=BaseModel)

CANCELLATION_EMAIL_TOPIC = "email.event_cancelled"
# Fixed forever: fan-out ids derived from it must come out the same on retry.
FAN_OUT_NAMESPACE = UUID("6f1c3a52-90a4-4c1e-9a53-2f0d4b7e8c11")


def emailing(
    payload_type: type[PayloadT], draft: Callable[[PayloadT], emails.Draft]
) -> Handler:
    """A handler that sends one email drafted from the message's payload."""

    def send_email(conn: SyncConn, message: Message) -> list[UUID]:
        payload = payload_type.model_validate(message.payload)
        mailer.send(emails.render(draft(payload), message.id))
        return []

    return send_email


def event_cancelled(conn: SyncConn, message: Message) -> list[UUID]:
    payload = EventCancelled.model_validate(message.payload)
    written = []
    for recipient in payload.recipients:
        notice = CancellationNotice(event=payload.event, recipient=recipient)
        fan_out_id = uuid.uuid5(FAN_OUT_NAMESPACE, f"{message.id}:{recipient.user_id}")
        row = conn.execute(
            queries["insert_fan_out_message"],
            {
                "id": fan_out_id,
                "topic": CANCELLATION_EMAIL_TOPIC,
                "payload": Jsonb(notice.model_dump(mode="json")),
                "headers": Jsonb({"request_id": message.request_id}),
            },
        ).fetchone()
        if row is not None:
            written.append(row["id"])
    log.info(
        "event.cancellation_fanned_out",
        extra={"event_id": str(payload.event.id), "recipients": len(written)},
    )
    return written


HANDLERS: dict[str, Handler] = {
    "user.registered": emailing(UserRegistered, emails.welcome),
    "order.confirmed": emailing(OrderConfirmed, emails.order_confirmed),
    "order.refunded": emailing(OrderRefunded, emails.order_refunded),
    "event.cancelled": event_cancelled,
    CANCELLATION_EMAIL_TOPIC: emailing(CancellationNotice, emails.event_cancelled),
}
