"""Request and response models of the events function."""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

from shared.schemas import RequestModel, Schema

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
SeatLabel = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def within_the_calendar(moment: datetime) -> datetime:
    # Far-off years are typing mistakes, and the extremes of the calendar
    # would not survive the trip to UTC and back.
    if not EARLIEST <= moment < LATEST:
        raise ValueError("must be in the years 2000 to 2099")
    return moment


Moment = Annotated[
    AwareDatetime,
    AfterValidator(within_the_calendar),
    Field(description="ISO 8601 with an offset, in the years 2000 to 2099."),
]
EventStatus = Literal["draft", "published", "cancelled"]
Seating = Literal["general", "assigned"]


class TicketTypeCreate(RequestModel):
    name: Name
    price_cents: int = Field(ge=0, le=100_000_000)
    quantity: int | None = Field(default=None, ge=0, le=1_000_000)
    seats: list[SeatLabel] | None = Field(default=None, min_length=1, max_length=10_000)

    @model_validator(mode="after")
    def quantity_or_seats(self) -> Self:
        if (self.quantity is None) == (self.seats is None):
            raise ValueError("give either quantity (general) or seats (assigned)")
        return self

    @property
    def seating(self) -> Seating:
        return "general" if self.seats is None else "assigned"

    @property
    def capacity(self) -> int:
        return len(self.seats) if self.seats is not None else self.quantity or 0


class TicketTypePatch(RequestModel):
    """An existing ticket type (by ``id``) to change. ``seats`` is the new
    full list of an assigned-seating type's labels."""

    id: UUID
    name: Name | None = None
    price_cents: int | None = Field(default=None, ge=0, le=100_000_000)
    quantity: int | None = Field(default=None, ge=0, le=1_000_000)
    seats: list[SeatLabel] | None = Field(default=None, min_length=1, max_length=10_000)

    @model_validator(mode="after")
    def labels_unique(self) -> Self:
        if self.seats is not None and len(set(self.seats)) != len(self.seats):
            raise ValueError("seat labels must be unique within an event")
        if self.seats is not None and self.quantity is not None:
            raise ValueError("give either quantity (general) or seats (assigned)")
        return self


def _existing_or_new(value: Any) -> str:
    if isinstance(value, dict):
        return "existing" if "id" in value else "new"
    return "existing" if isinstance(value, TicketTypePatch) else "new"


# Told apart by ``id`` up front, so that an error names the fields of the one
# kind that was meant rather than of both.
TicketTypeChange = Annotated[
    Annotated[TicketTypePatch, Tag("existing")]
    | Annotated[TicketTypeCreate, Tag("new")],
    Discriminator(_existing_or_new),
]


class EventFields(RequestModel):
    description: str = Field(default="", max_length=10_000)
    ends_at: Moment | None = None
    sales_start: Moment | None = None
    sales_end: Moment | None = None
    max_per_order: int = Field(default=10, ge=1, le=1000)


class EventCreate(EventFields):
    name: Name
    venue: Name
    starts_at: Moment
    currency: Currency
    ticket_types: list[TicketTypeCreate] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def consistent(self) -> Self:
        check_dates(self.starts_at, self.ends_at, self.sales_start, self.sales_end)
        check_unique_names_and_labels(self.ticket_types)
        return self


class EventPatch(RequestModel):
    """Any field of EventCreate. ``ticket_types`` changes the listed existing
    types (matched by ``id``) and adds those without an ``id``; types not
    listed stay as they are."""

    name: Name | None = None
    description: str | None = Field(default=None, max_length=10_000)
    venue: Name | None = None
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    currency: Currency | None = None
    sales_start: Moment | None = None
    sales_end: Moment | None = None
    max_per_order: int | None = Field(default=None, ge=1, le=1000)
    ticket_types: list[TicketTypeChange] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def no_nulls_for_required(self) -> Self:
        required = ("name", "description", "venue", "starts_at", "currency")
        for field in (*required, "max_per_order"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self

    def event_changes(self) -> dict[str, object]:
        return self.model_dump(
            include=self.model_fields_set - {"ticket_types"}, mode="python"
        )

    @property
    def new_ticket_types(self) -> list[TicketTypeCreate]:
        return [t for t in self.ticket_types if isinstance(t, TicketTypeCreate)]

    @property
    def changed_ticket_types(self) -> list[TicketTypePatch]:
        return [t for t in self.ticket_types if isinstance(t, TicketTypePatch)]


def check_dates(
    starts_at: datetime,
    ends_at: datetime | None,
    sales_start: datetime | None,
    sales_end: datetime | None,
) -> None:
    if ends_at is not None and ends_at < starts_at:
        raise ValueError("ends_at is before starts_at")
    if sales_start is not None and sales_end is not None and sales_end < sales_start:
        raise ValueError("sales_end is before sales_start")


def check_unique_names_and_labels(ticket_types: list[TicketTypeCreate]) -> None:
    names = [t.name for t in ticket_types]
    if len(set(names)) != len(names):
        raise ValueError("ticket type names must be unique within an event")
    labels = [label for t in ticket_types for label in t.seats or []]
    if len(set(labels)) != len(labels):
        raise ValueError("seat labels must be unique within an event")


class TicketTypeOut(Schema):
    id: UUID
    name: str
    price_cents: int
    quantity: int
    available: int
    seating: Seating


class EventOut(Schema):
    id: UUID
    name: str
    description: str
    venue: str
    starts_at: datetime
    ends_at: datetime | None
    status: EventStatus
    currency: str
    sales_start: datetime | None
    sales_end: datetime | None
    max_per_order: int
    created_by: UUID
    created_at: datetime
    updated_at: datetime
    ticket_types: list[TicketTypeOut]


class SeatOut(Schema):
    label: str
    ticket_type_id: UUID
    status: Literal["available", "held", "sold"]


class TicketTypeStats(Schema):
    ticket_type_id: UUID
    name: str
    seating: Seating
    price_cents: int
    quantity: int
    sold: int
    held: int
    available: int
    checked_in: int
    revenue_cents: int


class EventStats(Schema):
    sold: int
    held: int
    available: int
    checked_in: int
    revenue_cents: int
    currency: str
    by_ticket_type: list[TicketTypeStats]
