"""Fixtures for selling: events built through the API, as an organiser would."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.conftest import TestUser

Json = dict[str, Any]
EventFactory = Callable[..., Json]


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


def event_body(**overrides: Any) -> Json:
    body: Json = {
        "name": "Night Gig",
        "venue": "Main Hall",
        "starts_at": in_days(30),
        "currency": "EUR",
        "ticket_types": [{"name": "General", "price_cents": 2500, "quantity": 10}],
    }
    body.update(overrides)
    return body


@pytest.fixture
def make_event(client: TestClient, organizer: TestUser) -> EventFactory:
    """Create an event (published unless told otherwise) and return it."""

    def make(owner: TestUser = organizer, publish: bool = True, **fields: Any) -> Json:
        response = client.post(
            "/events", json=event_body(**fields), headers=owner.headers
        )
        assert response.status_code == 201, response.text
        event: Json = response.json()
        if publish:
            response = client.post(
                f"/events/{event['id']}/publish", headers=owner.headers
            )
            assert response.status_code == 200, response.text
            event = response.json()
        return event

    return make


@pytest.fixture
def seated_event(make_event: EventFactory) -> Json:
    return make_event(
        ticket_types=[
            {"name": "Stalls", "price_cents": 4000, "seats": ["A-1", "A-2", "A-3"]},
            {"name": "Standing", "price_cents": 1500, "quantity": 5},
        ]
    )


def type_id(event: Json, index: int = 0) -> str:
    ticket_type_id: str = event["ticket_types"][index]["id"]
    return ticket_type_id


def items(event: Json, quantity: int, index: int = 0) -> Json:
    return {"items": [{"ticket_type_id": type_id(event, index), "quantity": quantity}]}


def run_sql(database_url: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        cursor = conn.execute(query.encode(), params)
        return cursor.fetchall() if cursor.description else []
