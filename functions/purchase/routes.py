"""HTTP routes of the purchase function."""

import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_type_hints
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Request, Response, status
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, TypeAdapter, ValidationError

from functions.purchase import service
from functions.purchase.schemas import (
    ConfirmBody,
    OrderOut,
    PurchaseBody,
    ReservationOut,
    Selection,
    TicketOut,
)
from shared.auth import CurrentCaller, StaffCaller
from shared.errors import Unauthorized
from shared.pagination import Pagination
from shared.schemas import Page, error_responses
from shared.tokens import decode_access_token

router = APIRouter(tags=["purchase"])

_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


async def buyer(token: Annotated[str | None, Depends(_bearer)]) -> service.Buyer:
    """The caller from the token alone: the selling procedures check that the
    account is still active, and the token still current, in the same round
    trip as the work."""
    if not token:
        raise Unauthorized()
    claims = decode_access_token(token)
    issued_at = datetime.fromtimestamp(claims.issued_at, UTC)
    return service.Buyer(claims.user_id, issued_at)


BuyerFromToken = Annotated[service.Buyer, Depends(buyer)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x20-\x7e]+$",
        description="Replays the first answer to the same request for 24 hours.",
    ),
]

# Ticket codes are URL-safe base64 (see sales_new_ticket_code).
TicketCode = Annotated[str, Path(max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]

AUTH = {401: "not_authenticated, invalid_token"}
SELLING = {
    **AUTH,
    404: "event_not_found, ticket_type_not_found, seat_not_found",
    409: "sold_out, seat_unavailable (with seats), sales_closed, idempotency_conflict",
    422: "limit_exceeded, seat_selection_required, validation_error",
    503: "busy: try again (Retry-After)",
}


async def raw_request(request: Request) -> service.RawRequest:
    # The scope's path is what request.url.path gives for every path whose id
    # is a UUID (no "?", "#" or "\\" to escape), without building a URL.
    path: str = request.scope["path"]
    return service.RawRequest(request.method, path, await request.body())


Raw = Annotated[service.RawRequest, Depends(raw_request)]


def stored(answer: service.StoredAnswer) -> Response:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return Response(
        answer.body, answer.status_code, headers, media_type="application/json"
    )


Handler = Callable[[Request], Coroutine[Any, Any, Response]]
_event_id = TypeAdapter(UUID)
# IdempotencyKey's constraints: 1 to 255 printable ASCII characters.
_idempotency_key = re.compile(r"[\x20-\x7e]{1,255}")


class TokenOnlySellingRoute(APIRoute):
    """Hold and purchase, with a short way through for the request an on-sale
    sends thousands of times: a bearer token, ``application/json``, a body the
    model takes, a UUID in the path and a well-formed Idempotency-Key (or none).

    FastAPI's own handler (solving the dependencies, ``json.loads``, then
    validating the dict) took about 100 µs of Python a purchase here, as much
    as the rest of the app. Here the body is validated straight from its bytes
    and the endpoint called with what its signature declares. Any other
    request, and any test that overrides dependencies, takes FastAPI's
    handler, so every refusal keeps its status, its shape and its precedence.
    The endpoint's signature is all the short way reads: neither the route
    nor its routers may add dependencies of their own.
    """

    def get_route_handler(self) -> Handler:
        documented = super().get_route_handler()
        endpoint = self.endpoint
        body_model: type[Selection] = get_type_hints(endpoint)["body"]
        assert not self.dependencies, "the short way would skip them"

        async def handle(request: Request) -> Response:
            if request.app.dependency_overrides:
                return await documented(request)
            arguments = await _plain_arguments(request, body_model)
            if arguments is None:
                return await documented(request)
            response: Response = await endpoint(**arguments)
            return response

        return handle


async def _plain_arguments(
    request: Request, body_model: type[Selection]
) -> dict[str, Any] | None:
    """The endpoint's arguments if the request is plainly valid, else None."""
    headers = _first_values(request.scope["headers"])
    token = _bearer_token(headers.get(b"authorization"))
    key = headers.get(b"idempotency-key")
    if token is None or headers.get(b"content-type") != "application/json":
        return None
    if key is not None and not _idempotency_key.fullmatch(key):
        return None
    try:
        event_id = _event_id.validate_python(request.path_params["event_id"])
        body = body_model.model_validate_json(await request.body())
    except ValidationError:
        return None
    return {
        "buyer": await buyer(token),
        "event_id": event_id,
        "body": body,
        "raw": await raw_request(request),
        "idempotency_key": key,
    }


def _first_values(raw_headers: list[tuple[bytes, bytes]]) -> dict[bytes, str]:
    """Each header's first value, as Starlette's ``Headers.get`` reads it."""
    first: dict[bytes, str] = {}
    for name, value in raw_headers:
        if name not in first:
            first[name] = value.decode("latin-1")
    return first


def _bearer_token(authorization: str | None) -> str | None:
    scheme, token = get_authorization_scheme_param(authorization)
    return token if scheme.lower() == "bearer" and token else None


SellingEndpoint = Callable[..., Coroutine[Any, Any, Response]]


def selling_route(
    path: str, answer: type[BaseModel]
) -> Callable[[SellingEndpoint], SellingEndpoint]:
    """``router.post`` for hold and purchase, through TokenOnlySellingRoute."""

    def register(endpoint: SellingEndpoint) -> SellingEndpoint:
        router.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            response_model=answer,
            status_code=status.HTTP_201_CREATED,
            responses=error_responses(SELLING),
            route_class_override=TokenOnlySellingRoute,
        )
        return endpoint

    return register


@selling_route("/events/{event_id}/reservations", ReservationOut)
async def hold(
    buyer: BuyerFromToken,
    event_id: UUID,
    body: Selection,
    raw: Raw,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return stored(await service.hold(buyer, event_id, body, idempotency_key, raw))


@selling_route("/events/{event_id}/purchase", OrderOut)
async def purchase(
    buyer: BuyerFromToken,
    event_id: UUID,
    body: PurchaseBody,
    raw: Raw,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    return stored(await service.purchase(buyer, event_id, body, idempotency_key, raw))


@router.get(
    "/reservations/{reservation_id}",
    response_model=ReservationOut,
    responses=error_responses({**AUTH, 404: "reservation_not_found"}, 422),
)
async def get_reservation(
    caller: CurrentCaller, reservation_id: UUID
) -> ReservationOut:
    return await service.get_reservation(caller, reservation_id)


@router.post(
    "/reservations/{reservation_id}/confirm",
    response_model=OrderOut,
    responses=error_responses(
        {
            **AUTH,
            404: "reservation_not_found",
            409: "reservation_expired, reservation_released",
        },
        422,
    ),
)
async def confirm(
    caller: CurrentCaller, reservation_id: UUID, body: ConfirmBody | None = None
) -> OrderOut:
    reference = body.payment_reference if body else None
    return await service.confirm(caller.id, reservation_id, reference)


@router.delete(
    "/reservations/{reservation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(
        {**AUTH, 404: "reservation_not_found", 409: "invalid_state"}, 422
    ),
)
async def release(caller: CurrentCaller, reservation_id: UUID) -> None:
    await service.release(caller, reservation_id)


@router.get(
    "/orders", response_model=Page[OrderOut], responses=error_responses(AUTH, 422)
)
async def list_orders(
    caller: CurrentCaller,
    page: Pagination,
    event_id: UUID | None = None,
    user_id: UUID | None = None,
    status: Literal["confirmed", "refunded"] | None = None,
) -> Page[OrderOut]:
    return await service.list_orders(
        caller, page, event_id=event_id, user_id=user_id, status=status
    )


@router.get(
    "/orders/{order_id}",
    response_model=OrderOut,
    responses=error_responses({**AUTH, 404: "order_not_found"}, 422),
)
async def get_order(caller: CurrentCaller, order_id: UUID) -> OrderOut:
    return await service.get_order(caller, order_id)


@router.post(
    "/orders/{order_id}/cancel",
    response_model=OrderOut,
    responses=error_responses(
        {
            **AUTH,
            403: "forbidden: only the buyer or an admin",
            404: "order_not_found",
            409: "event_started",
        },
        422,
    ),
)
async def cancel_order(caller: CurrentCaller, order_id: UUID) -> OrderOut:
    return await service.cancel_order(caller, order_id)


@router.get(
    "/tickets", response_model=Page[TicketOut], responses=error_responses(AUTH, 422)
)
async def list_tickets(
    caller: CurrentCaller, page: Pagination, event_id: UUID | None = None
) -> Page[TicketOut]:
    return await service.list_tickets(caller, page, event_id=event_id)


@router.post(
    "/tickets/{code}/check-in",
    response_model=TicketOut,
    responses=error_responses(
        {
            **AUTH,
            403: "forbidden",
            404: "ticket_not_found",
            409: "already_checked_in (with checked_in_at), ticket_void",
        },
        422,
    ),
)
async def check_in(caller: StaffCaller, code: TicketCode) -> TicketOut:
    return await service.check_in(caller, code)
