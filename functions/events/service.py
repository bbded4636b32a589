"""Events and their ticket types: the organiser's side of selling."""

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.rows import DictRow

from functions.events.schemas import (
    EventCreate,
    EventOut,
    EventPatch,
    EventStats,
    EventStatus,
    SeatOut,
    TicketTypeCreate,
    TicketTypePatch,
    TicketTypeStats,
    check_dates,
)
from shared import db, outbox
from shared.auth import Caller
from shared.db import AsyncConn
from shared.errors import Conflict, NotFound, Unprocessable
from shared.logs import get_logger, request_id_var
from shared.pagination import PageRequest, fetch_page
from shared.schemas import Page
from shared.selling import refusals_as_errors
from shared.sqlfile import load_queries

log = get_logger(__name__)
queries = load_queries(__file__)

DUPLICATE_NAMES = {
    "ticket_types_event_id_name_key": "ticket_type_name_taken",
    "seats_label_unique_per_event": "seat_label_taken",
}


class EventNotFound(NotFound):
    code = "event_not_found"
    detail = "There is no such event."


class InvalidState(Conflict):
    code = "invalid_state"


async def _one(conn: AsyncConn, name: str, params: dict[str, Any]) -> DictRow | None:
    cursor = await conn.execute(queries[name], params)
    return await cursor.fetchone()


async def _all(conn: AsyncConn, name: str, params: dict[str, Any]) -> list[DictRow]:
    cursor = await conn.execute(queries[name], params)
    return await cursor.fetchall()


def _may_manage(caller: Caller | None, event: DictRow) -> bool:
    return caller is not None and (caller.is_admin or event["created_by"] == caller.id)


async def _managed_event(conn: AsyncConn, caller: Caller, event_id: UUID) -> DictRow:
    """The event if the caller is an admin or its organiser; 404 otherwise,
    so that other organisers cannot probe for drafts."""
    event = await _one(conn, "event_access", {"id": event_id})
    if event is None or not _may_manage(caller, event):
        raise EventNotFound()
    return event


async def _visible_event(
    conn: AsyncConn, caller: Caller | None, event_id: UUID
) -> DictRow:
    event = await _one(conn, "event_access", {"id": event_id})
    if event is None:
        raise EventNotFound()
    if event["status"] != "published" and not _may_manage(caller, event):
        raise EventNotFound()
    return event


async def _event(conn: AsyncConn, event_id: UUID) -> EventOut:
    row = await _one(conn, "event_by_id", {"id": event_id})
    if row is None:
        raise EventNotFound()
    return EventOut.model_validate(row)


# Reading ---------------------------------------------------------------------


async def list_events(
    caller: Caller | None,
    page: PageRequest,
    *,
    q: str | None,
    starts_after: datetime | None,
    starts_before: datetime | None,
    status: EventStatus | None,
) -> Page[EventOut]:
    params = {
        "is_admin": caller is not None and caller.is_admin,
        "caller_id": caller.id if caller else None,
        "q": q or None,
        "starts_after": starts_after,
        "starts_before": starts_before,
        "status": status,
    }
    async with db.transaction() as conn:
        return await fetch_page(conn, queries["list_events"], params, page, EventOut)


async def get_event(caller: Caller | None, event_id: UUID) -> EventOut:
    async with db.transaction() as conn:
        await _visible_event(conn, caller, event_id)
        return await _event(conn, event_id)


async def event_seats(caller: Caller | None, event_id: UUID) -> list[SeatOut]:
    async with db.transaction() as conn:
        await _visible_event(conn, caller, event_id)
        rows = await _all(conn, "event_seats", {"id": event_id})
    return [SeatOut.model_validate(row) for row in rows]


async def event_stats(caller: Caller, event_id: UUID) -> EventStats:
    async with db.transaction() as conn:
        event = await _managed_event(conn, caller, event_id)
        rows = await _all(conn, "ticket_type_stats", {"id": event_id})
    by_type = [TicketTypeStats.model_validate(row) for row in rows]
    return EventStats(
        sold=sum(t.sold for t in by_type),
        held=sum(t.held for t in by_type),
        available=sum(t.available for t in by_type),
        checked_in=sum(t.checked_in for t in by_type),
        revenue_cents=sum(t.revenue_cents for t in by_type),
        currency=event["currency"],
        by_ticket_type=by_type,
    )


# Writing ---------------------------------------------------------------------


async def create_event(caller: Caller, body: EventCreate) -> EventOut:
    fields = body.model_dump(exclude={"ticket_types"})
    async with db.transaction() as conn:
        row = await _one(conn, "insert_event", {**fields, "created_by": caller.id})
        assert row is not None
        for ticket_type in body.ticket_types:
            await _add_ticket_type(conn, row["id"], ticket_type)
        event = await _event(conn, row["id"])
    log.info("event.created", extra={"event_id": str(event.id)})
    return event


async def _add_ticket_type(
    conn: AsyncConn, event_id: UUID, ticket_type: TicketTypeCreate
) -> None:
    params = {
        "event_id": event_id,
        "name": ticket_type.name,
        "price_cents": ticket_type.price_cents,
        "quantity": ticket_type.capacity,
        "seating": ticket_type.seating,
    }
    try:
        row = await _one(conn, "insert_ticket_type", params)
        assert row is not None
        if ticket_type.seats is not None:
            seats = {"labels": ticket_type.seats, "ticket_type_id": row["id"]}
            await conn.execute(queries["insert_seats"], {**params, **seats})
    except pg_errors.UniqueViolation as exc:
        raise _duplicate(exc) from exc


def _duplicate(exc: pg_errors.UniqueViolation) -> Conflict:
    code = DUPLICATE_NAMES.get(exc.diag.constraint_name or "", "conflict")
    return Conflict("A ticket type name or seat label is already used.", code=code)


async def update_event(caller: Caller, event_id: UUID, patch: EventPatch) -> EventOut:
    async with db.transaction() as conn:
        await _managed_event(conn, caller, event_id)
        await conn.execute(queries["lock_event_for_change"], {"id": event_id})
        current = await _event(conn, event_id)
        _check_patch(current, patch)
        changes = patch.event_changes()
        if changes:
            await _update_event_row(conn, event_id, changes)
        for change in patch.changed_ticket_types:
            await _change_ticket_type(conn, event_id, change)
        for ticket_type in patch.new_ticket_types:
            await _add_ticket_type(conn, event_id, ticket_type)
        event = await _event(conn, event_id)
    log.info("event.updated", extra={"event_id": str(event_id)})
    return event


def _check_patch(current: EventOut, patch: EventPatch) -> None:
    if current.status == "cancelled":
        raise InvalidState("A cancelled event cannot be changed.")
    if patch.currency not in (None, current.currency) and current.status != "draft":
        raise InvalidState("The currency can change only while the event is a draft.")
    merged = current.model_copy(update=patch.event_changes())
    try:
        check_dates(
            merged.starts_at, merged.ends_at, merged.sales_start, merged.sales_end
        )
    except ValueError as exc:
        raise Unprocessable(str(exc), code="invalid_dates") from exc


async def _update_event_row(
    conn: AsyncConn, event_id: UUID, changes: dict[str, object]
) -> None:
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(field), sql.Placeholder(field))
        for field in changes
    )
    statement = sql.SQL(queries["update_event"]).format(assignments=assignments)
    await conn.execute(statement, {**changes, "id": event_id})


async def _change_ticket_type(
    conn: AsyncConn, event_id: UUID, change: TicketTypePatch
) -> None:
    params = {**change.model_dump(), "event_id": event_id}
    try:
        row = await _one(conn, "update_ticket_type", params)
    except pg_errors.UniqueViolation as exc:
        raise _duplicate(exc) from exc
    if row is None:
        raise NotFound(
            "This event has no such ticket type.", code="ticket_type_not_found"
        )
    capacity = _capacity_change(row["seating"], change)
    if capacity is None:
        return
    try:
        with refusals_as_errors():
            await conn.execute(queries[capacity], params)
    except pg_errors.UniqueViolation as exc:
        raise _duplicate(exc) from exc


def _capacity_change(seating: str, change: TicketTypePatch) -> str | None:
    """The query that changes this type's capacity, if the change asks to."""
    if change.quantity is None and change.seats is None:
        return None
    if (seating == "assigned") != (change.seats is not None):
        raise Unprocessable(
            "Change general admission by quantity and assigned seating by seats.",
            code="seating_mismatch",
        )
    return "set_seats" if change.seats is not None else "set_capacity"


async def publish_event(caller: Caller, event_id: UUID) -> EventOut:
    async with db.transaction() as conn:
        await _managed_event(conn, caller, event_id)
        if await _one(conn, "publish_event", {"id": event_id}) is None:
            raise InvalidState("Only a draft can be published.")
        event = await _event(conn, event_id)
    log.info("event.published", extra={"event_id": str(event_id)})
    return event


async def cancel_event(caller: Caller, event_id: UUID) -> EventOut:
    params = {"id": event_id, "request_id": request_id_var.get()}
    async with db.transaction() as conn:
        await _managed_event(conn, caller, event_id)
        with refusals_as_errors():
            row = await _one(conn, "cancel_event", params)
        assert row is not None
        event = await _event(conn, event_id)
    for message_id in row["outbox_ids"]:
        outbox.remember(message_id)
    log.info("event.cancelled", extra={"event_id": str(event_id)})
    return event


async def delete_event(caller: Caller, event_id: UUID) -> None:
    async with db.transaction() as conn:
        await _managed_event(conn, caller, event_id)
        if await _one(conn, "delete_draft_event", {"id": event_id}) is None:
            raise InvalidState("Only a draft without orders can be deleted.")
    log.info("event.deleted", extra={"event_id": str(event_id)})
