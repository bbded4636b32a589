"""Named queries kept in ``.sql`` files.

A file holds blocks like::

    -- name: get_user
    -- Fetch one user by id.
    SELECT ... WHERE id = %(id)s;

Each block becomes one entry, looked up by name. Parameters are psycopg's
named placeholders, so values are always sent separately from the SQL.
"""

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import LiteralString, cast

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


class Queries(Mapping[str, LiteralString]):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._queries = _parse(path.read_text())

    def __getitem__(self, name: str) -> LiteralString:
        try:
            return self._queries[name]
        except KeyError:
            raise KeyError(f"no query named {name!r} in {self.path}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._queries)

    def __len__(self) -> int:
        return len(self._queries)


def load_queries(beside: str, filename: str = "queries.sql") -> Queries:
    """Load the queries file that sits next to the module ``beside``
    (pass ``__file__``)."""
    return Queries(Path(beside).with_name(filename))


def _parse(text: str) -> dict[str, LiteralString]:
    parts = _NAME.split(text)
    queries: dict[str, LiteralString] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice")
        # The files are part of the code base, never user input.
        queries[name] = cast(LiteralString, body.strip())
    return queries
