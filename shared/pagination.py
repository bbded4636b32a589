"""``?page=&page_size=`` for every list, the same limits everywhere."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, LiteralString, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from shared.db import AsyncConn
from shared.schemas import Page

Item = TypeVar("Item", bound=BaseModel)

MAX_PAGE_SIZE = 100
# Deep enough for any real browsing; beyond it the offset stops fitting SQL.
MAX_PAGE = 100_000


@dataclass(frozen=True)
class PageRequest:
    page: int
    page_size: int

    @property
    def limit(self) -> int:
        return self.page_size

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def page_request(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> PageRequest:
    return PageRequest(page, page_size)


Pagination = Annotated[PageRequest, Depends(page_request)]


async def fetch_page(
    conn: AsyncConn,
    query: LiteralString,
    params: Mapping[str, Any],
    page: PageRequest,
    model: type[Item],
) -> Page[Item]:
    """Run a query answering one row of ``total`` and ``items`` (a JSON array)
    for the requested page."""
    window = {"limit": page.limit, "offset": page.offset}
    cursor = await conn.execute(query, {**params, **window})
    row = await cursor.fetchone()
    assert row is not None
    items = [model.model_validate(item) for item in row["items"]]
    return Page[Item](
        items=items, total=row["total"], page=page.page, page_size=page.page_size
    )
