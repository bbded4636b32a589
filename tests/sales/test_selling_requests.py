"""Hold and purchase read a plain request themselves and leave every other one
to FastAPI's handler (``TokenOnlySellingRoute`` in functions/purchase/routes.py).
Whichever way a request goes, its answer must be the one FastAPI gives.

A Content-Type with a charset always goes FastAPI's way, so each request is
sent both with and without one, and the two answers compared.
"""

import json
from collections.abc import Callable

import httpx2 as httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from tests.conftest import TestUser
from tests.sales.conftest import EventFactory, Json, items, type_id

SHORT_WAY = "application/json"
FASTAPI_WAY = "application/json; charset=utf-8"
SELLING_PATHS = ["purchase", "reservations"]
WRITTEN_BY_SELLING = ["reservations", "orders", "tickets", "idempotency_keys", "outbox"]


def refused_bodies(ticket_type_id: str) -> list[tuple[str, bytes]]:
    def selection(**fields: object) -> bytes:
        item = {"ticket_type_id": ticket_type_id, "quantity": 1, **fields}
        return json.dumps({"items": [item]}).encode()

    return [
        ("malformed JSON", b'{"items": [{"ticket_type_id": '),
        ("an empty body", b""),
        ("a JSON array", b"[]"),
        ("nothing chosen", b"{}"),
        ("a quantity that is a word", selection(quantity="two")),
        ("a quantity of zero", selection(quantity=0)),
        ("a quantity that is not a number", selection(quantity=float("nan"))),
        ("a ticket type that is no id", selection(ticket_type_id="not-an-id")),
        ("a price the buyer names", selection(price_cents=0)),
        ("a field the selection lacks", b'{"items": [], "discount": 100}'),
    ]


def send(
    client: TestClient,
    url: str,
    body: bytes,
    content_type: str,
    headers: dict[str, str],
) -> httpx.Response:
    return client.post(
        url, content=body, headers={**headers, "Content-Type": content_type}
    )


@pytest.fixture
def written(database_url: str) -> Callable[[], dict[str, int]]:
    def count() -> dict[str, int]:
        with psycopg.connect(database_url) as conn:
            return {table: _rows(conn, table) for table in WRITTEN_BY_SELLING}

    return count


def _rows(conn: psycopg.Connection[tuple[int]], table: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


@pytest.mark.parametrize("path", SELLING_PATHS)
def test_refused_bodies_get_fastapis_422_either_way_and_write_nothing(
    client: TestClient,
    make_event: EventFactory,
    customer: TestUser,
    written: Callable[[], dict[str, int]],
    path: str,
) -> None:
    event = make_event()
    url = f"/events/{event['id']}/{path}"
    before = written()

    for name, body in refused_bodies(type_id(event)):
        short = send(client, url, body, SHORT_WAY, customer.headers)
        documented = send(client, url, body, FASTAPI_WAY, customer.headers)

        assert short.status_code == documented.status_code == 422, name
        assert short.json() == documented.json(), name
        assert short.json()["error"] == "validation_error", name
        fields = [field["field"] for field in short.json()["fields"]]
        assert fields and all(f.startswith("body") for f in fields), name
    assert written() == before


@pytest.mark.parametrize("path", SELLING_PATHS)
def test_a_plain_selection_is_sold_alike_either_way(
    client: TestClient, make_event: EventFactory, customer: TestUser, path: str
) -> None:
    event = make_event()
    url = f"/events/{event['id']}/{path}"
    body = json.dumps(items(event, 2)).encode()

    short = send(client, url, body, SHORT_WAY, customer.headers)
    documented = send(client, url, body, FASTAPI_WAY, customer.headers)

    assert short.status_code == documented.status_code == 201
    assert short.json().keys() == documented.json().keys()
    assert short.headers["content-type"] == documented.headers["content-type"]
    fresh: Json = client.get(f"/events/{event['id']}").json()
    assert fresh["ticket_types"][0]["available"] == 6


def test_an_oversized_body_is_413_either_way_and_writes_nothing(
    client: TestClient,
    make_event: EventFactory,
    customer: TestUser,
    written: Callable[[], dict[str, int]],
) -> None:
    event = make_event()
    url = f"/events/{event['id']}/purchase"
    selection = {**items(event, 1), "payment_reference": "x" * 1_100_000}
    before = written()

    for content_type in (SHORT_WAY, FASTAPI_WAY):
        body = json.dumps(selection).encode()
        response = send(client, url, body, content_type, customer.headers)

        assert response.status_code == 413, content_type
        assert response.json()["error"] == "payload_too_large"
    assert written() == before


def test_which_refusal_wins_is_fastapis(
    client: TestClient, make_event: EventFactory, customer: TestUser
) -> None:
    """FastAPI reads the body before it asks for a token, and checks the
    token before the path and the headers."""
    event = make_event()
    url = f"/events/{event['id']}/purchase"
    plain = json.dumps(items(event, 1)).encode()
    bad_token = {"Authorization": "Bearer not-a-token"}
    bad_key = {**customer.headers, "Idempotency-Key": "tab\there"}
    cases = [
        ("malformed JSON, no token", url, b'{"items": ', {}, 422),
        ("no token", url, plain, {}, 401),
        ("a bad token", url, plain, bad_token, 401),
        ("a bad token and a bad key", url, plain, {**bad_key, **bad_token}, 401),
        ("a bad key", url, plain, bad_key, 422),
        ("a path id that is no id", "/events/nope/purchase", plain, bad_key, 422),
    ]

    for name, target, body, headers, status in cases:
        for content_type in (SHORT_WAY, FASTAPI_WAY):
            response = send(client, target, body, content_type, headers)
            assert response.status_code == status, (name, content_type)
