"""The emails the worker sends, each with a plain-text and an HTML part."""

from dataclasses import dataclass
from email.message import EmailMessage
from html import escape
from uuid import UUID

from functions.worker.schemas import (
    CancellationNotice,
    EventSummary,
    OrderConfirmed,
    OrderRefunded,
    UserRegistered,
)
from shared.settings import get_settings

MESSAGE_ID_HEADER = "X-EventScale-Message-Id"


@dataclass(frozen=True)
class Draft:
    to: str
    subject: str
    greeting_name: str
    paragraphs: list[str]
    lines: list[str]


def welcome(payload: UserRegistered) -> Draft:
    return Draft(
        payload.email,
        "Welcome to EventScale",
        payload.full_name,
        ["Your account is ready. You can now buy tickets for our events."],
        [],
    )


def order_confirmed(payload: OrderConfirmed) -> Draft:
    tickets = [
        f"{ticket.code}  {ticket.ticket_type}, seat {ticket.seat or 'unassigned'}"
        for ticket in payload.tickets
    ]
    return Draft(
        payload.email,
        f"Your tickets for {payload.event.name}",
        payload.full_name,
        [
            f"Your order {payload.order_id} is confirmed.",
            _event_line(payload.event),
            f"Total paid: {_money(payload.total_cents, payload.currency)}.",
            "Show these ticket codes at the entrance:",
        ],
        tickets,
    )


def order_refunded(payload: OrderRefunded) -> Draft:
    return Draft(
        payload.email,
        f"Your order for {payload.event.name} is refunded",
        payload.full_name,
        [
            f"Your order {payload.order_id} has been refunded.",
            _event_line(payload.event),
            f"Refunded: {_money(payload.total_cents, payload.currency)}.",
            "Its tickets are no longer valid.",
        ],
        [],
    )


def event_cancelled(payload: CancellationNotice) -> Draft:
    orders = [f"Order {order_id}" for order_id in payload.recipient.order_ids]
    return Draft(
        payload.recipient.email,
        f"{payload.event.name} is cancelled",
        payload.recipient.full_name,
        [
            "We are sorry: this event has been cancelled.",
            _event_line(payload.event),
            "Your orders below are refunded in full and their tickets void.",
        ],
        orders,
    )


def render(draft: Draft, message_id: UUID) -> EmailMessage:
    email = EmailMessage()
    email["From"] = get_settings().email_from
    email["To"] = draft.to
    email["Subject"] = draft.subject
    # Lets a person trace an email back to the message that caused it.
    email[MESSAGE_ID_HEADER] = str(message_id)
    email.set_content(_text(draft))
    email.add_alternative(_html(draft), subtype="html")
    return email


def _text(draft: Draft) -> str:
    parts = [f"Hello {draft.greeting_name},", *draft.paragraphs]
    if draft.lines:
        parts.append("\n".join(f"  {line}" for line in draft.lines))
    return "\n\n".join([*parts, "The EventScale team"]) + "\n"


def _html(draft: Draft) -> str:
    parts = [f"<p>Hello {escape(draft.greeting_name)},</p>"]
    parts += [f"<p>{escape(paragraph)}</p>" for paragraph in draft.paragraphs]
    if draft.lines:
        items = "".join(f"<li><code>{escape(line)}</code></li>" for line in draft.lines)
        parts.append(f"<ul>{items}</ul>")
    parts.append("<p>The EventScale team</p>")
    return "<html><body>" + "".join(parts) + "</body></html>\n"


def _event_line(event: EventSummary) -> str:
    when = event.starts_at.strftime("%A %d %B %Y, %H:%M %Z").strip()
    return f"{event.name}, at {event.venue}, on {when}."


def _money(cents: int, currency: str) -> str:
    return f"{cents // 100}.{cents % 100:02d} {currency}"
