"""A general admission purchase writes first and counts the sale last, under
the ticket-type lock: a refusal there must leave nothing behind."""

from fastapi.testclient import TestClient

from tests.conftest import TestUser
from tests.sales.conftest import EventFactory, items, run_sql, type_id


def test_a_sold_out_purchase_leaves_no_order_ticket_message_or_stored_answer(
    client: TestClient,
    make_event: EventFactory,
    customer: TestUser,
    database_url: str,
) -> None:
    event = make_event(
        ticket_types=[{"name": "Last One", "price_cents": 900, "quantity": 1}]
    )
    url = f"/events/{event['id']}/purchase"
    client.post(url, json=items(event, 1), headers=customer.headers)
    headers = {**customer.headers, "Idempotency-Key": "late-buyer"}

    refused = client.post(url, json=items(event, 1), headers=headers)

    assert refused.status_code == 409
    assert refused.json()["error"] == "sold_out"
    [(orders, tickets, messages, stored)] = run_sql(
        database_url,
        "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM tickets), "
        "(SELECT count(*) FROM outbox WHERE topic = 'order.confirmed'), "
        "(SELECT count(*) FROM idempotency_keys WHERE key = 'late-buyer')",
    )
    assert (orders, tickets, messages, stored) == (1, 1, 1, 0)


def test_sold_out_names_the_short_type_when_another_in_the_order_has_room(
    client: TestClient, make_event: EventFactory, customer: TestUser
) -> None:
    event = make_event(
        ticket_types=[
            {"name": "Plenty", "price_cents": 100, "quantity": 50},
            {"name": "Scarce", "price_cents": 100, "quantity": 2},
        ]
    )
    selection = {
        "items": [
            {"ticket_type_id": type_id(event, 0), "quantity": 2},
            {"ticket_type_id": type_id(event, 1), "quantity": 3},
        ]
    }

    response = client.post(
        f"/events/{event['id']}/purchase", json=selection, headers=customer.headers
    )

    body = response.json()
    assert (response.status_code, body["error"]) == (409, "sold_out")
    assert (body["ticket_type_id"], body["available"]) == (type_id(event, 1), 2)
    assert "Only 2 left" in body["detail"]
    fresh = client.get(f"/events/{event['id']}").json()
    assert [t["available"] for t in fresh["ticket_types"]] == [50, 2]


def test_a_general_admission_purchase_writes_the_message_for_the_email(
    client: TestClient,
    make_event: EventFactory,
    customer: TestUser,
    database_url: str,
) -> None:
    event = make_event()
    response = client.post(
        f"/events/{event['id']}/purchase",
        json=items(event, 2),
        headers=customer.headers,
    )
    order = response.json()

    [(payload,)] = run_sql(
        database_url, "SELECT payload FROM outbox WHERE topic = 'order.confirmed'"
    )
    assert response.status_code == 201
    assert payload["order_id"] == order["id"]
    assert sorted(t["code"] for t in payload["tickets"]) == sorted(
        t["code"] for t in order["tickets"]
    )
