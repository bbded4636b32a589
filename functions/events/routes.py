"""HTTP routes of the events function."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from functions.events import service
from functions.events.schemas import (
    EventCreate,
    EventOut,
    EventPatch,
    EventStats,
    EventStatus,
    Moment,
    SeatOut,
)
from shared.auth import OptionalCaller, StaffCaller
from shared.pagination import Pagination
from shared.schemas import Page, SafeText, error_responses

router = APIRouter(tags=["events"])

ANYONE = {401: "invalid_token: a token was sent and is not valid"}
AUTH = {401: "not_authenticated", 403: "forbidden: not an admin or organizer"}
NOT_FOUND = {404: "event_not_found"}
STATE = {409: "invalid_state"}


@router.get(
    "/events", response_model=Page[EventOut], responses=error_responses(ANYONE, 422)
)
async def list_events(
    caller: OptionalCaller,
    page: Pagination,
    q: Annotated[SafeText | None, Query(max_length=200)] = None,
    starts_after: Moment | None = None,
    starts_before: Moment | None = None,
    status: Annotated[
        EventStatus | None, Query(description="Staff only: others see published.")
    ] = None,
) -> Page[EventOut]:
    return await service.list_events(
        caller,
        page,
        q=q,
        starts_after=starts_after,
        starts_before=starts_before,
        status=status,
    )


@router.post(
    "/events",
    response_model=EventOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        {**AUTH, 409: "ticket_type_name_taken, seat_label_taken"}, 422
    ),
)
async def create_event(caller: StaffCaller, body: EventCreate) -> EventOut:
    return await service.create_event(caller, body)


@router.get(
    "/events/{event_id}",
    response_model=EventOut,
    responses=error_responses({**ANYONE, **NOT_FOUND}, 422),
)
async def get_event(caller: OptionalCaller, event_id: UUID) -> EventOut:
    return await service.get_event(caller, event_id)


@router.patch(
    "/events/{event_id}",
    response_model=EventOut,
    responses=error_responses(
        {**AUTH, **NOT_FOUND, 409: "capacity_below_sold, invalid_state"}, 422
    ),
)
async def update_event(
    caller: StaffCaller, event_id: UUID, body: EventPatch
) -> EventOut:
    return await service.update_event(caller, event_id, body)


@router.post(
    "/events/{event_id}/publish",
    response_model=EventOut,
    responses=error_responses({**AUTH, **NOT_FOUND, **STATE}, 422),
)
async def publish_event(caller: StaffCaller, event_id: UUID) -> EventOut:
    return await service.publish_event(caller, event_id)


@router.post(
    "/events/{event_id}/cancel",
    response_model=EventOut,
    responses=error_responses({**AUTH, **NOT_FOUND, **STATE}, 422),
)
async def cancel_event(caller: StaffCaller, event_id: UUID) -> EventOut:
    return await service.cancel_event(caller, event_id)


@router.delete(
    "/events/{event_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses({**AUTH, **NOT_FOUND, **STATE}, 422),
)
async def delete_event(caller: StaffCaller, event_id: UUID) -> None:
    await service.delete_event(caller, event_id)


@router.get(
    "/events/{event_id}/seats",
    response_model=list[SeatOut],
    responses=error_responses({**ANYONE, **NOT_FOUND}, 422),
)
async def event_seats(caller: OptionalCaller, event_id: UUID) -> list[SeatOut]:
    return await service.event_seats(caller, event_id)


@router.get(
    "/events/{event_id}/stats",
    response_model=EventStats,
    responses=error_responses({**AUTH, **NOT_FOUND}, 422),
)
async def event_stats(caller: StaffCaller, event_id: UUID) -> EventStats:
    return await service.event_stats(caller, event_id)
