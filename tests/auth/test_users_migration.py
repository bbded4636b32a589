"""The users-table migration builds the indexes the list relies on."""

from collections.abc import Callable
from typing import Any

Query = Callable[..., list[tuple[Any, ...]]]


def index_names(query: Query) -> set[str]:
    rows = query("SELECT indexname FROM pg_indexes WHERE tablename = 'users'")
    return {row[0] for row in rows}


def test_every_sort_has_its_index(query: Query) -> None:
    assert {
        "users_created_at_idx",
        "users_email_key",
        "users_full_name_idx",
        "users_last_login_asc_idx",
        "users_last_login_desc_idx",
    } <= index_names(query)


def test_search_gets_trigram_indexes_where_pg_trgm_exists(query: Query) -> None:
    available = query("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    trigram = {"users_email_trgm_idx", "users_full_name_trgm_idx"}

    assert (trigram <= index_names(query)) == bool(available)
