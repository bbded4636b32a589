"""The selling procedures' refusals, turned into the API's errors.

The procedures in ``shared/sql`` raise SQLSTATE P0001 with the API's error
code as the message, a sentence for the buyer as the detail and any extra
fields as JSON in the hint. This is the one place that reads them.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from psycopg import errors as pg_errors

from shared.errors import AppError, Conflict, Forbidden, NotFound, Unprocessable
from shared.tokens import InvalidToken

REFUSALS: dict[str, type[AppError]] = {
    "event_not_found": NotFound,
    "ticket_type_not_found": NotFound,
    "seat_not_found": NotFound,
    "reservation_not_found": NotFound,
    "order_not_found": NotFound,
    "ticket_not_found": NotFound,
    "sold_out": Conflict,
    "seat_unavailable": Conflict,
    "sales_closed": Conflict,
    "reservation_expired": Conflict,
    "reservation_released": Conflict,
    "idempotency_conflict": Conflict,
    "invalid_state": Conflict,
    "capacity_below_sold": Conflict,
    "event_started": Conflict,
    "already_checked_in": Conflict,
    "ticket_void": Conflict,
    "limit_exceeded": Unprocessable,
    "seat_selection_required": Unprocessable,
    "forbidden": Forbidden,
    "invalid_token": InvalidToken,
}


@contextmanager
def refusals_as_errors() -> Iterator[None]:
    """Raise the API error for a procedure's refusal; anything else passes."""
    try:
        yield
    except pg_errors.RaiseException as exc:
        error = refusal_error(exc)
        if error is None:
            raise
        raise error from exc


def refusal_error(exc: pg_errors.RaiseException) -> AppError | None:
    code = exc.diag.message_primary or ""
    kind = REFUSALS.get(code)
    if kind is None:
        return None
    return kind(exc.diag.message_detail, code=code, **_extra(exc.diag.message_hint))


def _extra(hint: str | None) -> dict[str, Any]:
    extra = json.loads(hint) if hint else {}
    return extra if isinstance(extra, dict) else {}
