"""Request and response models of the purchase function."""

from datetime import datetime
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from shared.schemas import RequestModel, Schema

SeatLabel = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)
]


class SelectionItem(RequestModel):
    ticket_type_id: UUID
    quantity: int = Field(ge=1, le=1000)


class Selection(RequestModel):
    """General admission by quantity, assigned seats by label, or both."""

    items: list[SelectionItem] = Field(default_factory=list, max_length=100)
    seats: list[SeatLabel] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def something_chosen(self) -> Self:
        if not self.items and not self.seats:
            raise ValueError("choose items, seats or both")
        if len(set(self.seats)) != len(self.seats):
            raise ValueError("a seat is listed twice")
        return self


class PurchaseBody(Selection):
    payment_reference: str | None = Field(default=None, max_length=200)


class ConfirmBody(RequestModel):
    payment_reference: str | None = Field(default=None, max_length=200)


class ReservationItemOut(Schema):
    ticket_type_id: UUID
    quantity: int
    seats: list[str]


class ReservationOut(Schema):
    id: UUID
    event_id: UUID
    user_id: UUID
    status: Literal["held", "confirmed", "released", "expired"]
    expires_at: datetime
    items: list[ReservationItemOut]
    total_cents: int
    currency: str
    created_at: datetime
    order_id: UUID | None


class TicketOut(Schema):
    id: UUID
    code: str
    event_id: UUID
    ticket_type_id: UUID
    seat: str | None
    status: Literal["valid", "void"]
    checked_in_at: datetime | None


class OrderOut(Schema):
    id: UUID
    event_id: UUID
    user_id: UUID
    status: Literal["confirmed", "refunded"]
    total_cents: int
    currency: str
    payment_reference: str | None
    created_at: datetime
    refunded_at: datetime | None
    tickets: list[TicketOut]
