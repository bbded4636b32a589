"""The bad-input catalogue: every operation of the API, fed garbage.

Each case must answer a clear 4xx in the error shape of API.md — never a 5xx
— and leave every table exactly as it was. The operations come from the
app's own OpenAPI schema, so a new route is covered the day it is added.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import sql

from tests.conftest import TestUser

NOT_A_UUID = "not-a-uuid"
UNICODE_JUNK = "\u0000\u202e\ud7ff\U0001f4a5 ' OR 1=1 --"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def has_json_body(self) -> bool:
        content = self.spec.get("requestBody", {}).get("content", {})
        return "application/json" in content

    def parameters(self, location: str) -> list[str]:
        declared = self.spec.get("parameters", [])
        return [p["name"] for p in declared if p["in"] == location]

    def url(self, path_value: str = "00000000-0000-4000-8000-000000000000") -> str:
        path = self.path
        for name in self.parameters("path"):
            path = path.replace("{" + name + "}", path_value)
        return path


def operations(app: FastAPI) -> list[Operation]:
    return [
        Operation(method.upper(), path, spec)
        for path, methods in app.openapi()["paths"].items()
        for method, spec in methods.items()
    ]


@pytest.fixture
def row_counts(
    database_url: str, data_tables: list[str]
) -> Callable[[], dict[str, int]]:
    def count() -> dict[str, int]:
        with psycopg.connect(database_url) as conn:
            return {
                table: conn.execute(
                    sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
                ).fetchone()[0]  # type: ignore[index]
                for table in data_tables
            }

    return count


@pytest.fixture
def caller(make_user: Callable[..., TestUser]) -> TestUser:
    return make_user("admin")


def assert_clean_rejection(response: Any, label: str) -> None:
    assert 400 <= response.status_code < 500, (
        f"{label} answered {response.status_code}: {response.text[:300]}"
    )
    body = response.json()
    assert isinstance(body.get("error"), str), f"{label}: no error code in {body}"
    assert isinstance(body.get("detail"), str), f"{label}: no detail in {body}"


def bad_bodies() -> Iterator[tuple[str, bytes]]:
    yield "malformed JSON", b'{"name": '
    yield "a JSON array", b"[]"
    yield "a JSON string", b'"hello"'
    yield "a JSON number", b"12345678901234567890123456789"
    yield "null", b"null"
    yield "control characters", json.dumps({UNICODE_JUNK: UNICODE_JUNK}).encode()
    yield "a 10 KB string", json.dumps({"x": "x" * 10_240}).encode()
    yield "deep nesting", b"[" * 5_000 + b"]" * 5_000


def test_bodies_that_are_not_the_schema_are_rejected(
    client: TestClient,
    local_app: FastAPI,
    caller: TestUser,
    row_counts: Callable[[], dict[str, int]],
) -> None:
    before = row_counts()
    for operation in operations(local_app):
        if not operation.has_json_body:
            continue
        for name, body in bad_bodies():
            response = client.request(
                operation.method,
                operation.url(),
                content=body,
                headers={**caller.headers, "Content-Type": "application/json"},
            )
            assert_clean_rejection(response, f"{operation.label} with {name}")
    assert row_counts() == before


def test_invalid_ids_in_paths_are_rejected(
    client: TestClient,
    local_app: FastAPI,
    caller: TestUser,
    row_counts: Callable[[], dict[str, int]],
) -> None:
    before = row_counts()
    for operation in operations(local_app):
        if not operation.parameters("path"):
            continue
        for value in (NOT_A_UUID, "%00", "1" * 300):
            response = client.request(
                operation.method, operation.url(value), headers=caller.headers, json={}
            )
            assert_clean_rejection(response, f"{operation.label} with id {value!r}")
    assert row_counts() == before


@pytest.mark.parametrize(
    ("name", "value"),
    [("page_size", "1000"), ("page_size", "0"), ("page", "-1"), ("page", "abc")],
)
def test_absurd_paging_is_rejected(
    client: TestClient,
    local_app: FastAPI,
    caller: TestUser,
    name: str,
    value: str,
) -> None:
    for operation in operations(local_app):
        if operation.method != "GET" or name not in operation.parameters("query"):
            continue
        response = client.get(
            operation.url(), params={name: value}, headers=caller.headers
        )
        assert_clean_rejection(response, f"{operation.label} with {name}={value}")


def test_oversized_bodies_are_rejected_everywhere(
    client: TestClient,
    local_app: FastAPI,
    caller: TestUser,
    row_counts: Callable[[], dict[str, int]],
) -> None:
    before = row_counts()
    body = json.dumps({"x": "x" * (3 * 1024 * 1024)}).encode()
    for operation in operations(local_app):
        if not operation.has_json_body:
            continue
        response = client.request(
            operation.method,
            operation.url(),
            content=body,
            headers={**caller.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 413, operation.label
    assert row_counts() == before
