"""Response shapes every function shares: the error body and a page."""

from typing import Any, Generic, TypeVar

from pydantic import BaseModel

T = TypeVar("T")


class ErrorBody(BaseModel):
    error: str
    detail: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route that answers these errors."""
    return {status: {"model": ErrorBody} for status in status_codes}
