"""What the worker receives: a message, and the payloads its topics carry
(the contract the other functions write to the outbox)."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel


@dataclass(frozen=True)
class Message:
    id: UUID
    topic: str
    payload: dict[str, Any]
    request_id: str | None = None
    # Failed attempts before this one; a header carried by retries.
    failures: int = 0


class EventSummary(BaseModel):
    id: UUID
    name: str
    venue: str
    starts_at: datetime


class UserRegistered(BaseModel):
    user_id: UUID
    email: str
    full_name: str


class TicketLine(BaseModel):
    code: str
    ticket_type: str
    seat: str | None = None


class OrderRefunded(BaseModel):
    order_id: UUID
    user_id: UUID
    email: str
    full_name: str
    event: EventSummary
    total_cents: int
    currency: str


class OrderConfirmed(OrderRefunded):
    tickets: list[TicketLine]


class Recipient(BaseModel):
    user_id: UUID
    email: str
    full_name: str
    order_ids: list[UUID]


class EventCancelled(BaseModel):
    event: EventSummary
    recipients: list[Recipient]


class CancellationNotice(BaseModel):
    """``email.event_cancelled``: one buyer's share of an event.cancelled."""

    event: EventSummary
    recipient: Recipient
