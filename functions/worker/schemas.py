"""What the worker receives: a message, and the payloads its topics carry
(the contract the other functions write to the outbox)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from shared.schemas import Schema


@dataclass(frozen=True)
class Message:
    id: UUID
    topic: str
    payload: dict[str, Any]
    request_id: str | None = None
    # Failed attempts before this one; a header carried by retries.
    failures: int = 0


class EventSummary(Schema):
    id: UUID
    name: str
    venue: str
    starts_at: datetime


class UserRegistered(Schema):
    user_id: UUID
    email: str
    full_name: str


class TicketLine(Schema):
    code: str
    ticket_type: str
    seat: str | None = None


class OrderRefunded(Schema):
    order_id: UUID
    user_id: UUID
    email: str
    full_name: str
    event: EventSummary
    total_cents: int
    currency: str


class OrderConfirmed(OrderRefunded):
    tickets: list[TicketLine]


class Recipient(Schema):
    user_id: UUID
    email: str
    full_name: str
    order_ids: list[UUID]


class EventCancelled(Schema):
    event: EventSummary
    recipients: list[Recipient]


class CancellationNotice(Schema):
    """``email.event_cancelled``: one buyer's share of an event.cancelled."""

    event: EventSummary
    recipient: Recipient
