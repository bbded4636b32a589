"""Procedures the routes do not reach on their own: the sweeper, key expiry,
and how refusals cross into Python."""

import psycopg
import pytest
from fastapi.testclient import TestClient

from shared.errors import Conflict
from shared.selling import refusals_as_errors
from tests.conftest import TestUser
from tests.sales.conftest import EventFactory, items, run_sql


def test_sweeper_expires_run_out_holds_and_leaves_live_ones(
    client: TestClient,
    make_event: EventFactory,
    customer: TestUser,
    database_url: str,
) -> None:
    event = make_event()
    url = f"/events/{event['id']}/reservations"
    stale = client.post(url, json=items(event, 2), headers=customer.headers).json()
    live = client.post(url, json=items(event, 3), headers=customer.headers).json()
    run_sql(
        database_url,
        "UPDATE reservations SET expires_at = now() - interval '1 minute' "
        "WHERE id = %s",
        stale["id"],
    )

    [(expired,)] = run_sql(database_url, "SELECT sales_expire_holds(100)")

    assert expired == 1
    statuses = dict(run_sql(database_url, "SELECT id::text, status FROM reservations"))
    assert statuses == {stale["id"]: "expired", live["id"]: "held"}
    fresh = client.get(f"/events/{event['id']}").json()
    assert fresh["ticket_types"][0]["available"] == 7


def test_an_idempotency_key_older_than_a_day_runs_the_request_again(
    client: TestClient,
    make_event: EventFactory,
    customer: TestUser,
    database_url: str,
) -> None:
    event = make_event()
    headers = {**customer.headers, "Idempotency-Key": "yesterday"}
    url = f"/events/{event['id']}/purchase"
    first = client.post(url, json=items(event, 1), headers=headers).json()
    run_sql(
        database_url,
        "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'",
    )

    second = client.post(url, json=items(event, 1), headers=headers)

    assert second.status_code == 201
    assert second.json()["id"] != first["id"]
    assert "idempotent-replayed" not in second.headers


def test_a_refusal_becomes_its_api_error_with_extra_fields(database_url: str) -> None:
    with (
        psycopg.connect(database_url) as conn,
        pytest.raises(Conflict) as caught,
        refusals_as_errors(),
    ):
        conn.execute(
            b"SELECT sales_fail('seat_unavailable', 'Taken.', "
            b"""'{"seats": ["A-1"]}')"""
        )

    assert caught.value.status_code == 409
    assert caught.value.body() == {
        "error": "seat_unavailable",
        "detail": "Taken.",
        "seats": ["A-1"],
    }


def test_an_unknown_raise_is_not_mistaken_for_a_refusal(database_url: str) -> None:
    with (
        psycopg.connect(database_url) as conn,
        pytest.raises(psycopg.errors.RaiseException),
        refusals_as_errors(),
    ):
        conn.execute(b"DO $$ BEGIN RAISE EXCEPTION 'something else'; END $$")
