"""Buying tickets: holds, orders, refunds and check-in.

Every change runs as one call of a stored procedure (``shared/sql``), which
takes the locks, checks availability and writes, all in one statement.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from psycopg.rows import DictRow

from functions.purchase.schemas import (
    OrderOut,
    PurchaseBody,
    ReservationOut,
    Selection,
    TicketOut,
)
from shared import db, outbox
from shared.auth import Caller
from shared.db import AsyncConn
from shared.errors import AppError, NotFound
from shared.logs import get_logger, request_id_var
from shared.pagination import PageRequest, fetch_page
from shared.schemas import Page
from shared.selling import refusals_as_errors
from shared.settings import get_settings
from shared.sqlfile import load_queries

log = get_logger(__name__)
queries = load_queries(__file__)


@dataclass(frozen=True)
class StoredAnswer:
    """An answer the database wrote (and keeps for replays), sent as is."""

    status_code: int
    body: str
    replayed: bool


@dataclass(frozen=True)
class RawRequest:
    """What an Idempotency-Key is bound to."""

    method: str
    path: str
    body: bytes

    def digest(self) -> bytes:
        head = f"{self.method} {self.path}\n".encode()
        return hashlib.sha256(head + self.body).digest()


async def _call(name: str, params: dict[str, Any]) -> DictRow:
    """Run one procedure call as one statement and one round trip."""
    async with db.autocommit() as conn:
        with refusals_as_errors():
            cursor = await conn.execute(queries[name], params)
            row = await cursor.fetchone()
    assert row is not None
    for message_id in row.get("outbox_ids") or ():
        outbox.remember(message_id)
    return row


async def _one(conn: AsyncConn, name: str, params: dict[str, Any]) -> DictRow | None:
    cursor = await conn.execute(queries[name], params)
    return await cursor.fetchone()


def _scope(caller: Caller) -> dict[str, Any]:
    return {"caller_id": caller.id, "is_admin": caller.is_admin}


# Holding and buying ------------------------------------------------------------


@dataclass(frozen=True)
class Buyer:
    """The caller of the token-only selling routes, as the token says."""

    user_id: UUID
    token_issued_at: datetime


def _selection_params(
    buyer: Buyer,
    event_id: UUID,
    selection: Selection,
    idempotency_key: str | None,
    request: RawRequest,
) -> dict[str, Any]:
    return {
        "user_id": buyer.user_id,
        "token_issued_at": buyer.token_issued_at,
        "event_id": event_id,
        # JSON text straight from pydantic's serialiser, cast to jsonb in SQL.
        "selection": selection.model_dump_json(include={"items", "seats"}),
        "idempotency_key": idempotency_key,
        "request_hash": request.digest(),
    }


async def hold(
    buyer: Buyer,
    event_id: UUID,
    selection: Selection,
    idempotency_key: str | None,
    request: RawRequest,
) -> StoredAnswer:
    params = _selection_params(buyer, event_id, selection, idempotency_key, request)
    params["hold_seconds"] = get_settings().hold_seconds
    row = await _call("hold", params)
    log.info("reservation.held", extra={"event_id": str(event_id)})
    return StoredAnswer(row["status_code"], row["body"], row["replayed"])


async def purchase(
    buyer: Buyer,
    event_id: UUID,
    body: PurchaseBody,
    idempotency_key: str | None,
    request: RawRequest,
) -> StoredAnswer:
    params = _selection_params(buyer, event_id, body, idempotency_key, request)
    params["payment_reference"] = body.payment_reference
    params["request_id"] = request_id_var.get()
    row = await _call("purchase", params)
    log.info(
        "order.purchased",
        extra={"event_id": str(event_id), "replayed": row["replayed"]},
    )
    return StoredAnswer(row["status_code"], row["body"], row["replayed"])


async def confirm(
    user_id: UUID, reservation_id: UUID, payment_reference: str | None
) -> OrderOut:
    params = {
        "user_id": user_id,
        "reservation_id": reservation_id,
        "payment_reference": payment_reference,
        "request_id": request_id_var.get(),
    }
    try:
        row = await _call("confirm", params)
    except AppError as exc:
        if exc.error_code == "reservation_expired":
            log.warning(
                "reservation.expired_at_confirm",
                extra={"reservation_id": str(reservation_id)},
            )
        raise
    order = OrderOut.model_validate(row["body"])
    log.info("order.confirmed", extra={"order_id": str(order.id)})
    return order


async def release(caller: Caller, reservation_id: UUID) -> None:
    await _call("release", {"reservation_id": reservation_id, **_scope(caller)})
    log.info("reservation.released", extra={"reservation_id": str(reservation_id)})


async def get_reservation(caller: Caller, reservation_id: UUID) -> ReservationOut:
    async with db.transaction() as conn:
        row = await _one(conn, "reservation", {"id": reservation_id, **_scope(caller)})
    if row is None:
        raise NotFound("There is no such reservation.", code="reservation_not_found")
    return ReservationOut.model_validate(row["reservation"])


# Orders and tickets --------------------------------------------------------------


async def get_order(caller: Caller, order_id: UUID) -> OrderOut:
    async with db.transaction() as conn:
        row = await _one(conn, "order", {"id": order_id, **_scope(caller)})
    if row is None:
        raise NotFound("There is no such order.", code="order_not_found")
    return OrderOut.model_validate(row["order"])


async def list_orders(
    caller: Caller,
    page: PageRequest,
    *,
    event_id: UUID | None,
    user_id: UUID | None,
    status: Literal["confirmed", "refunded"] | None,
) -> Page[OrderOut]:
    params = {**_scope(caller), "event_id": event_id, "user_id": user_id}
    async with db.transaction() as conn:
        return await fetch_page(
            conn, queries["list_orders"], {**params, "status": status}, page, OrderOut
        )


async def list_tickets(
    caller: Caller, page: PageRequest, *, event_id: UUID | None
) -> Page[TicketOut]:
    params = {"caller_id": caller.id, "event_id": event_id}
    async with db.transaction() as conn:
        return await fetch_page(conn, queries["list_tickets"], params, page, TicketOut)


async def cancel_order(caller: Caller, order_id: UUID) -> OrderOut:
    params = {
        "order_id": order_id,
        "caller_id": caller.id,
        "caller_role": caller.role,
        "request_id": request_id_var.get(),
    }
    row = await _call("refund", params)
    log.info("order.refunded", extra={"order_id": str(order_id)})
    return OrderOut.model_validate(row["body"])


async def check_in(caller: Caller, code: str) -> TicketOut:
    row = await _call("check_in", {"code": code, **_scope(caller)})
    ticket = TicketOut.model_validate(row["ticket"])
    log.info("ticket.checked_in", extra={"ticket_id": str(ticket.id)})
    return ticket
