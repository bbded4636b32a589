"""Response models more than one function declares."""

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

Item = TypeVar("Item")


class ErrorBody(BaseModel):
    error: str
    detail: str


class Page(BaseModel, Generic[Item]):
    items: list[Item]
    total: int
    page: int
    page_size: int


def error_responses(codes: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given statuses, each naming its error
    codes: ``error_responses({404: "event_not_found"})``."""
    return {
        status: {"model": ErrorBody, "description": description}
        for status, description in codes.items()
    }
