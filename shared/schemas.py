"""Response models more than one function declares."""

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

Item = TypeVar("Item")

_STANDARD_DESCRIPTIONS = {
    400: "The request could not be processed",
    401: "Missing, expired or invalid bearer token",
    403: "The caller's role does not allow this",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "The request body is too large",
    422: "The request is not valid",
    429: "Too many attempts; see Retry-After",
    503: "Temporarily unavailable; see Retry-After",
}


class ErrorBody(BaseModel):
    error: str
    detail: str


class FieldError(BaseModel):
    field: str
    message: str


class ValidationErrorBody(ErrorBody):
    fields: list[FieldError]


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    total: int
    page: int
    page_size: int


def error_responses(*specs: int | Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the errors a route answers: bare statuses, or
    statuses mapped to the error codes they carry
    (``error_responses(401, {404: "event_not_found"})``)."""
    described: dict[int, str] = {}
    for spec in specs:
        if isinstance(spec, Mapping):
            described.update(spec)
        else:
            described.setdefault(spec, _STANDARD_DESCRIPTIONS.get(spec, "Error"))
    return {
        status: {
            "model": ValidationErrorBody if status == 422 else ErrorBody,
            "description": description,
        }
        for status, description in described.items()
    }
