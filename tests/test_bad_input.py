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


# Per-field cases the generic catalogue cannot know: each is one field of one
# route made wrong in one way. Validation runs before any lookup, so the ids
# in paths need not exist.
SOME_ID = "00000000-0000-4000-8000-000000000000"
TEN_KB = "x" * 10_240
NEW_USER = {"email": "new@example.com", "password": "long enough", "full_name": "N"}
TICKETS = [{"name": "General", "price_cents": 2500, "quantity": 10}]
EVENT = {
    "name": "Night Gig",
    "venue": "Main Hall",
    "starts_at": "2027-05-01T20:00:00Z",
    "currency": "EUR",
    "ticket_types": TICKETS,
}
CHOICE = {"items": [{"ticket_type_id": SOME_ID, "quantity": 1}]}
PURCHASE = f"/events/{SOME_ID}/purchase"
HOLD = f"/events/{SOME_ID}/reservations"


def event_with(**fields: Any) -> dict[str, Any]:
    return {**EVENT, **fields}


def tickets_with(**fields: Any) -> dict[str, Any]:
    return event_with(ticket_types=[{**TICKETS[0], **fields}])


def choice_with(**fields: Any) -> dict[str, Any]:
    return {"items": [{"ticket_type_id": SOME_ID, "quantity": 1, **fields}]}


def without(body: dict[str, Any], field: str) -> dict[str, Any]:
    return {name: value for name, value in body.items() if name != field}


BODY_CASES: list[tuple[str, str, str, Any]] = [
    ("register without email", "POST", "/auth/register", without(NEW_USER, "email")),
    (
        "register choosing its role",
        "POST",
        "/auth/register",
        {**NEW_USER, "role": "admin"},
    ),
    (
        "register with an empty name",
        "POST",
        "/auth/register",
        {**NEW_USER, "full_name": ""},
    ),
    (
        "register with a 10 KB name",
        "POST",
        "/auth/register",
        {**NEW_USER, "full_name": TEN_KB},
    ),
    (
        "register with a short password",
        "POST",
        "/auth/register",
        {**NEW_USER, "password": "short"},
    ),
    ("login without password", "POST", "/auth/login", without(NEW_USER, "password")),
    (
        "login with an empty email",
        "POST",
        "/auth/login",
        {"email": "", "password": "x"},
    ),
    ("me with a NUL in the name", "PATCH", "/auth/me", {"full_name": "a\u0000b"}),
    ("me changing its own role", "PATCH", "/auth/me", {"role": "admin"}),
    ("user with an unknown role", "POST", "/users", {**NEW_USER, "role": "root"}),
    ("user without a role", "POST", "/users", NEW_USER),
    ("user edit changing the email", "PATCH", f"/users/{SOME_ID}", {"email": "a@b.co"}),
    ("event without a start", "POST", "/events", without(EVENT, "starts_at")),
    ("event created published", "POST", "/events", event_with(status="published")),
    ("event with an empty name", "POST", "/events", event_with(name="   ")),
    (
        "event in the year 1",
        "POST",
        "/events",
        event_with(starts_at="0001-01-01T00:00:00+14:00"),
    ),
    (
        "event in the year 9999",
        "POST",
        "/events",
        event_with(starts_at="9999-12-31T23:59:59Z"),
    ),
    (
        "event at a time without offset",
        "POST",
        "/events",
        event_with(starts_at="2027-05-01T20:00:00"),
    ),
    (
        "event ending before it starts",
        "POST",
        "/events",
        event_with(ends_at="2027-04-01T20:00:00Z"),
    ),
    ("event in lower-case currency", "POST", "/events", event_with(currency="eur")),
    ("event without ticket types", "POST", "/events", event_with(ticket_types=[])),
    ("event with no orders allowed", "POST", "/events", event_with(max_per_order=0)),
    (
        "ticket type with a negative price",
        "POST",
        "/events",
        tickets_with(price_cents=-1),
    ),
    (
        "ticket type with a huge price",
        "POST",
        "/events",
        tickets_with(price_cents=10**12),
    ),
    (
        "ticket type with a negative quantity",
        "POST",
        "/events",
        tickets_with(quantity=-1),
    ),
    (
        "ticket type with a huge quantity",
        "POST",
        "/events",
        tickets_with(quantity=2**63),
    ),
    (
        "ticket type with an empty seat",
        "POST",
        "/events",
        tickets_with(quantity=None, seats=[""]),
    ),
    (
        "event edit setting the status",
        "PATCH",
        f"/events/{SOME_ID}",
        {"status": "published"},
    ),
    ("event edit emptying the name", "PATCH", f"/events/{SOME_ID}", {"name": None}),
    (
        "event edit in the year 3000",
        "PATCH",
        f"/events/{SOME_ID}",
        {"starts_at": "3000-01-01T00:00:00Z"},
    ),
    ("purchase of nothing", "POST", PURCHASE, {}),
    ("purchase of zero tickets", "POST", PURCHASE, choice_with(quantity=0)),
    ("purchase of minus one ticket", "POST", PURCHASE, choice_with(quantity=-1)),
    ("purchase of a billion tickets", "POST", PURCHASE, choice_with(quantity=10**9)),
    ("purchase naming its price", "POST", PURCHASE, choice_with(price_cents=0)),
    (
        "purchase of a type that is no id",
        "POST",
        PURCHASE,
        choice_with(ticket_type_id="1"),
    ),
    (
        "purchase with a 10 KB reference",
        "POST",
        PURCHASE,
        {**CHOICE, "payment_reference": TEN_KB},
    ),
    ("hold of a seat twice", "POST", HOLD, {"seats": ["A-1", "A-1"]}),
    ("hold naming its total", "POST", HOLD, {**CHOICE, "total_cents": 0}),
    (
        "confirm naming its total",
        "POST",
        f"/reservations/{SOME_ID}/confirm",
        {"total_cents": 0},
    ),
]

QUERY_CASES: list[tuple[str, str, dict[str, str]]] = [
    ("users sorted by password", "/users", {"sort": "password_hash"}),
    ("users searched with a NUL", "/users", {"q": "a\u0000b"}),
    ("users with a 10 KB search", "/users", {"q": TEN_KB}),
    ("users of an unknown role", "/users", {"role": "root"}),
    ("events after the year 1", "/events", {"starts_after": "0001-01-01T00:00:00Z"}),
    ("events before a non-date", "/events", {"starts_before": "yesterday"}),
    ("events searched with a NUL", "/events", {"q": "a\u0000b"}),
    ("events in an unknown status", "/events", {"status": "deleted"}),
    ("orders in an unknown status", "/orders", {"status": "paid"}),
    ("orders of a user that is no id", "/orders", {"user_id": "1"}),
    ("tickets of an event that is no id", "/tickets", {"event_id": "1"}),
    ("a page far beyond any data", "/tickets", {"page": str(10**12)}),
]


def assert_validation_error(response: Any, label: str) -> None:
    assert response.status_code == 422, (
        f"{label}: {response.status_code} {response.text}"
    )
    body = response.json()
    assert body["error"] == "validation_error", label
    assert body["fields"], f"{label}: no field named"


@pytest.mark.parametrize(
    ("label", "method", "path", "body"), BODY_CASES, ids=[c[0] for c in BODY_CASES]
)
def test_each_bad_field_is_named_and_changes_nothing(
    client: TestClient,
    caller: TestUser,
    row_counts: Callable[[], dict[str, int]],
    label: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    before = row_counts()

    response = client.request(method, path, json=body, headers=caller.headers)

    assert_validation_error(response, label)
    assert row_counts() == before


@pytest.mark.parametrize(
    ("label", "path", "params"), QUERY_CASES, ids=[c[0] for c in QUERY_CASES]
)
def test_each_bad_query_parameter_is_named(
    client: TestClient, caller: TestUser, label: str, path: str, params: dict[str, str]
) -> None:
    response = client.get(path, params=params, headers=caller.headers)

    assert_validation_error(response, label)


def test_a_ticket_code_that_cannot_be_one_is_refused(
    client: TestClient, caller: TestUser
) -> None:
    response = client.post("/tickets/..%2Fadmin/check-in", headers=caller.headers)

    assert 400 <= response.status_code < 500
    assert isinstance(response.json()["error"], str)
