"""The Purchase table of API.md, row by row."""

from collections.abc import Callable
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TestUser
from tests.sales.conftest import (
    EventFactory,
    Json,
    in_days,
    items,
    run_sql,
    type_id,
)

Buyer = Callable[..., TestUser]


def buy(client: TestClient, event: Json, user: TestUser, selection: Json) -> Json:
    response = client.post(
        f"/events/{event['id']}/purchase", json=selection, headers=user.headers
    )
    assert response.status_code == 201, response.text
    order: Json = response.json()
    return order


def hold(client: TestClient, event: Json, user: TestUser, selection: Json) -> Json:
    response = client.post(
        f"/events/{event['id']}/reservations", json=selection, headers=user.headers
    )
    assert response.status_code == 201, response.text
    reservation: Json = response.json()
    return reservation


def available(client: TestClient, event: Json, index: int = 0) -> int:
    fresh = client.get(f"/events/{event['id']}").json()
    count: int = fresh["ticket_types"][index]["available"]
    return count


def expire(database_url: str, reservation_id: str) -> None:
    """Let the hold's time run out, without any sweeper running."""
    run_sql(
        database_url,
        "UPDATE reservations SET expires_at = now() - interval '1 second' "
        "WHERE id = %s",
        reservation_id,
    )
    run_sql(
        database_url,
        "UPDATE reservation_items SET held_until = now() - interval '1 second' "
        "WHERE reservation_id = %s",
        reservation_id,
    )


class TestReservations:
    def test_hold_answers_a_held_reservation_that_expires_later(
        self, client: TestClient, seated_event: Json, customer: TestUser
    ) -> None:
        selection = {"seats": ["A-2", "A-1"], **items(seated_event, 2, index=1)}

        reservation = hold(client, seated_event, customer, selection)

        assert reservation["status"] == "held"
        created = datetime.fromisoformat(reservation["created_at"])
        expires = datetime.fromisoformat(reservation["expires_at"])
        assert 590 <= (expires - created).total_seconds() <= 610
        assert reservation["total_cents"] == 2 * 4000 + 2 * 1500
        stalls, standing = reservation["items"]
        assert (stalls["quantity"], stalls["seats"]) == (2, ["A-1", "A-2"])
        assert (standing["quantity"], standing["seats"]) == (2, [])
        assert available(client, seated_event, index=1) == 3

    def test_owner_and_admin_see_it_and_others_get_404(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        admin: TestUser,
        make_user: Buyer,
    ) -> None:
        event = make_event()
        reservation = hold(client, event, customer, items(event, 1))
        url = f"/reservations/{reservation['id']}"

        assert client.get(url, headers=customer.headers).json() == reservation
        assert client.get(url, headers=admin.headers).status_code == 200
        stranger = client.get(url, headers=make_user().headers)
        assert stranger.status_code == 404
        assert stranger.json()["error"] == "reservation_not_found"

    def test_confirm_makes_an_order_and_confirming_twice_answers_it_again(
        self, client: TestClient, make_event: EventFactory, customer: TestUser
    ) -> None:
        event = make_event()
        reservation = hold(client, event, customer, items(event, 2))
        url = f"/reservations/{reservation['id']}/confirm"

        first = client.post(
            url, json={"payment_reference": "pay_1"}, headers=customer.headers
        )
        second = client.post(url, headers=customer.headers)

        assert first.status_code == second.status_code == 200
        order = first.json()
        assert order["status"] == "confirmed"
        assert order["payment_reference"] == "pay_1"
        assert len(order["tickets"]) == 2
        assert second.json() == order
        assert available(client, event) == 8

    def test_an_expired_hold_cannot_be_confirmed_and_frees_its_tickets(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        database_url: str,
    ) -> None:
        event = make_event(
            ticket_types=[{"name": "GA", "price_cents": 1, "quantity": 2}]
        )
        reservation = hold(client, event, customer, items(event, 2))
        expire(database_url, reservation["id"])

        response = client.post(
            f"/reservations/{reservation['id']}/confirm", headers=customer.headers
        )

        assert response.status_code == 409
        assert response.json()["error"] == "reservation_expired"
        assert available(client, event) == 2
        shown = client.get(
            f"/reservations/{reservation['id']}", headers=customer.headers
        )
        assert shown.json()["status"] == "expired"

    def test_an_expired_holds_seats_are_sold_to_others_without_a_sweeper(
        self,
        client: TestClient,
        seated_event: Json,
        customer: TestUser,
        make_user: Buyer,
        database_url: str,
    ) -> None:
        late = hold(client, seated_event, customer, {"seats": ["A-1", "A-2"]})
        expire(database_url, late["id"])

        order = buy(client, seated_event, make_user(), {"seats": ["A-1", "A-2"]})
        confirm = client.post(
            f"/reservations/{late['id']}/confirm", headers=customer.headers
        )

        assert [t["seat"] for t in order["tickets"]] == ["A-1", "A-2"]
        assert confirm.status_code == 409
        assert confirm.json()["error"] == "reservation_expired"
        assert run_sql(
            database_url, "SELECT status FROM reservations WHERE id = %s", late["id"]
        ) == [("held",)]

    def test_someone_elses_reservation_cannot_be_confirmed(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        make_user: Buyer,
    ) -> None:
        event = make_event()
        reservation = hold(client, event, customer, items(event, 1))

        response = client.post(
            f"/reservations/{reservation['id']}/confirm", headers=make_user().headers
        )

        assert response.status_code == 404
        assert response.json()["error"] == "reservation_not_found"

    def test_release_gives_the_tickets_back_at_once(
        self,
        client: TestClient,
        seated_event: Json,
        customer: TestUser,
        admin: TestUser,
    ) -> None:
        mine = hold(client, seated_event, customer, {"seats": ["A-1"]})
        other = hold(client, seated_event, customer, {"seats": ["A-2"]})

        by_owner = client.delete(
            f"/reservations/{mine['id']}", headers=customer.headers
        )
        by_admin = client.delete(f"/reservations/{other['id']}", headers=admin.headers)

        assert by_owner.status_code == by_admin.status_code == 204
        seats = client.get(f"/events/{seated_event['id']}/seats").json()
        assert {s["status"] for s in seats} == {"available"}
        confirm = client.post(
            f"/reservations/{mine['id']}/confirm", headers=customer.headers
        )
        assert confirm.json()["error"] == "reservation_released"

    def test_release_by_a_stranger_is_404(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        make_user: Buyer,
    ) -> None:
        event = make_event()
        reservation = hold(client, event, customer, items(event, 1))

        response = client.delete(
            f"/reservations/{reservation['id']}", headers=make_user().headers
        )

        assert response.status_code == 404
        assert available(client, event) == 9


class TestPurchase:
    def test_purchase_confirms_an_order_with_unguessable_ticket_codes(
        self, client: TestClient, seated_event: Json, customer: TestUser
    ) -> None:
        order = buy(client, seated_event, customer, {"seats": ["A-3"]})

        assert order["status"] == "confirmed"
        assert order["user_id"] == str(customer.id)
        assert order["total_cents"] == 4000
        [ticket] = order["tickets"]
        assert (ticket["seat"], ticket["status"]) == ("A-3", "valid")
        assert len(ticket["code"]) >= 22
        assert set(ticket["code"]) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )

    def test_purchase_writes_the_confirmation_message_for_the_email(
        self,
        client: TestClient,
        seated_event: Json,
        customer: TestUser,
        database_url: str,
    ) -> None:
        order = buy(client, seated_event, customer, {"seats": ["A-1"]})

        [(payload,)] = run_sql(
            database_url, "SELECT payload FROM outbox WHERE topic = 'order.confirmed'"
        )
        assert payload["order_id"] == order["id"]
        assert payload["email"] == customer.email
        assert payload["full_name"] == "Test Person"
        assert payload["event"]["venue"] == seated_event["venue"]
        assert datetime.fromisoformat(payload["event"]["starts_at"]).tzinfo
        assert payload["tickets"] == [
            {
                "code": order["tickets"][0]["code"],
                "ticket_type": "Stalls",
                "seat": "A-1",
            }
        ]

    def test_sold_out_names_the_ticket_type(
        self, client: TestClient, make_event: EventFactory, customer: TestUser
    ) -> None:
        event = make_event(
            ticket_types=[{"name": "Early Bird", "price_cents": 1, "quantity": 3}]
        )
        buy(client, event, customer, items(event, 2))

        response = client.post(
            f"/events/{event['id']}/purchase",
            json=items(event, 2),
            headers=customer.headers,
        )

        assert response.status_code == 409
        body = response.json()
        assert body["error"] == "sold_out"
        assert "Early Bird" in body["detail"]
        assert (body["ticket_type_id"], body["available"]) == (type_id(event), 1)

    def test_taken_seats_are_listed_and_nothing_is_held(
        self, client: TestClient, seated_event: Json, customer: TestUser
    ) -> None:
        buy(client, seated_event, customer, {"seats": ["A-2"]})
        hold(client, seated_event, customer, {"seats": ["A-3"]})

        response = client.post(
            f"/events/{seated_event['id']}/purchase",
            json={"seats": ["A-1", "A-2", "A-3"]},
            headers=customer.headers,
        )

        assert response.status_code == 409
        assert response.json()["error"] == "seat_unavailable"
        assert response.json()["seats"] == ["A-2", "A-3"]
        seats = client.get(f"/events/{seated_event['id']}/seats").json()
        assert seats[0] == {**seats[0], "label": "A-1", "status": "available"}

    @pytest.mark.parametrize(
        "window",
        [
            {"sales_start": in_days(1)},
            {"sales_start": in_days(-2), "sales_end": in_days(-1)},
        ],
    )
    def test_sales_closed_outside_the_sales_window(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        window: Json,
    ) -> None:
        event = make_event(**window)

        response = client.post(
            f"/events/{event['id']}/purchase",
            json=items(event, 1),
            headers=customer.headers,
        )

        assert response.status_code == 409
        assert response.json()["error"] == "sales_closed"

    def test_sales_closed_for_drafts_and_cancelled_events(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        organizer: TestUser,
    ) -> None:
        draft = make_event(publish=False)
        cancelled = make_event()
        client.post(f"/events/{cancelled['id']}/cancel", headers=organizer.headers)

        for event in (draft, cancelled):
            response = client.post(
                f"/events/{event['id']}/reservations",
                json=items(event, 1),
                headers=customer.headers,
            )
            assert response.status_code == 409
            assert response.json()["error"] == "sales_closed"

    def test_more_than_max_per_order_is_refused(
        self, client: TestClient, make_event: EventFactory, customer: TestUser
    ) -> None:
        event = make_event(max_per_order=4)

        response = client.post(
            f"/events/{event['id']}/purchase",
            json=items(event, 5),
            headers=customer.headers,
        )

        assert response.status_code == 422
        assert response.json()["error"] == "limit_exceeded"
        assert available(client, event) == 10

    @pytest.mark.parametrize(
        ("selection", "code"),
        [
            (
                {
                    "items": [
                        {
                            "ticket_type_id": "00000000-0000-0000-0000-000000000000",
                            "quantity": 1,
                        }
                    ]
                },
                "ticket_type_not_found",
            ),
            ({"seats": ["Z-99"]}, "seat_not_found"),
        ],
    )
    def test_unknown_ticket_types_and_seats_are_404(
        self,
        client: TestClient,
        seated_event: Json,
        customer: TestUser,
        selection: Json,
        code: str,
    ) -> None:
        response = client.post(
            f"/events/{seated_event['id']}/purchase",
            json=selection,
            headers=customer.headers,
        )

        assert response.status_code == 404
        assert response.json()["error"] == code

    def test_unknown_event_is_404(self, client: TestClient, customer: TestUser) -> None:
        response = client.post(
            "/events/00000000-0000-0000-0000-000000000000/purchase",
            json={"seats": ["A-1"]},
            headers=customer.headers,
        )

        assert response.status_code == 404
        assert response.json()["error"] == "event_not_found"

    def test_empty_or_non_positive_selections_are_validation_errors(
        self, client: TestClient, make_event: EventFactory, customer: TestUser
    ) -> None:
        event = make_event()
        url = f"/events/{event['id']}/purchase"

        for selection in ({}, items(event, 0), {"seats": ["A-1", "A-1"]}):
            response = client.post(url, json=selection, headers=customer.headers)
            assert response.status_code == 422
            assert response.json()["error"] == "validation_error"

    def test_anonymous_and_disabled_buyers_are_401(
        self,
        client: TestClient,
        make_event: EventFactory,
        make_user: Buyer,
    ) -> None:
        event = make_event()
        url = f"/events/{event['id']}/purchase"
        disabled = make_user(is_active=False)

        anonymous = client.post(url, json=items(event, 1))
        refused = client.post(url, json=items(event, 1), headers=disabled.headers)

        assert anonymous.status_code == refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert available(client, event) == 10

    def test_a_token_from_before_a_password_change_can_neither_hold_nor_buy(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        database_url: str,
    ) -> None:
        event = make_event()
        run_sql(
            database_url,
            "UPDATE users SET tokens_valid_after = now() + interval '1 minute' "
            "WHERE id = %s",
            customer.id,
        )

        for path in ("purchase", "reservations"):
            response = client.post(
                f"/events/{event['id']}/{path}",
                json=items(event, 1),
                headers=customer.headers,
            )
            assert response.status_code == 401, path
            assert response.json()["error"] == "invalid_token"
        assert available(client, event) == 10


class TestIdempotency:
    def test_same_key_and_body_replays_the_first_answer(
        self, client: TestClient, make_event: EventFactory, customer: TestUser
    ) -> None:
        event = make_event()
        headers = {**customer.headers, "Idempotency-Key": "order-123"}
        url = f"/events/{event['id']}/purchase"

        first = client.post(url, json=items(event, 2), headers=headers)
        again = client.post(url, json=items(event, 2), headers=headers)

        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert available(client, event) == 8

    def test_same_key_with_another_body_is_a_conflict(
        self, client: TestClient, make_event: EventFactory, customer: TestUser
    ) -> None:
        event = make_event()
        headers = {**customer.headers, "Idempotency-Key": "hold-1"}
        url = f"/events/{event['id']}/reservations"
        client.post(url, json=items(event, 1), headers=headers)

        response = client.post(url, json=items(event, 3), headers=headers)

        assert response.status_code == 409
        assert response.json()["error"] == "idempotency_conflict"

    def test_keys_belong_to_one_user(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        make_user: Buyer,
    ) -> None:
        event = make_event()
        url = f"/events/{event['id']}/purchase"
        key = {"Idempotency-Key": "shared-key"}

        mine = client.post(
            url, json=items(event, 1), headers={**customer.headers, **key}
        )
        theirs = client.post(
            url, json=items(event, 1), headers={**make_user().headers, **key}
        )

        assert mine.status_code == theirs.status_code == 201
        assert mine.json()["id"] != theirs.json()["id"]

    @pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
    def test_malformed_keys_are_refused(
        self, client: TestClient, make_event: EventFactory, customer: TestUser, key: str
    ) -> None:
        event = make_event()

        response = client.post(
            f"/events/{event['id']}/purchase",
            json=items(event, 1),
            headers={**customer.headers, "Idempotency-Key": key},
        )

        assert response.status_code == 422
        assert response.json()["error"] == "validation_error"


class TestOrders:
    def test_each_role_lists_the_orders_it_may_see(
        self,
        client: TestClient,
        make_event: EventFactory,
        organizer: TestUser,
        admin: TestUser,
        make_user: Buyer,
    ) -> None:
        mine, elsewhere = make_event(), make_event(owner=make_user("organizer"))
        alice, bob = make_user(), make_user()
        first = buy(client, mine, alice, items(mine, 1))
        second = buy(client, elsewhere, bob, items(elsewhere, 1))

        def ids(user: TestUser, **params: str) -> list[str]:
            body = client.get("/orders", params=params, headers=user.headers).json()
            assert (body["page"], body["page_size"]) == (1, 20)
            return [order["id"] for order in body["items"]]

        assert ids(alice) == [first["id"]]
        assert ids(organizer) == [first["id"]]
        assert ids(admin) == [second["id"], first["id"]]
        assert ids(admin, user_id=str(bob.id)) == [second["id"]]
        assert ids(admin, event_id=mine["id"]) == [first["id"]]
        assert ids(alice, status="refunded") == []

    def test_an_order_is_seen_by_its_buyer_the_event_owner_and_admins_only(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        organizer: TestUser,
        admin: TestUser,
        make_user: Buyer,
    ) -> None:
        event = make_event()
        order = buy(client, event, customer, items(event, 1))
        url = f"/orders/{order['id']}"

        for allowed in (customer, organizer, admin):
            assert client.get(url, headers=allowed.headers).json() == order
        stranger = client.get(url, headers=make_user().headers)
        assert stranger.status_code == 404
        assert stranger.json()["error"] == "order_not_found"


class TestCancelOrder:
    def test_buyer_cancels_before_the_event_and_the_seat_is_free_again(
        self,
        client: TestClient,
        seated_event: Json,
        customer: TestUser,
        make_user: Buyer,
        database_url: str,
    ) -> None:
        order = buy(client, seated_event, customer, {"seats": ["A-1"]})

        response = client.post(
            f"/orders/{order['id']}/cancel", headers=customer.headers
        )

        assert response.status_code == 200
        refunded = response.json()
        assert refunded["status"] == "refunded"
        assert refunded["tickets"][0]["status"] == "void"
        buy(client, seated_event, make_user(), {"seats": ["A-1"]})
        [(payload,)] = run_sql(
            database_url, "SELECT payload FROM outbox WHERE topic = 'order.refunded'"
        )
        assert (payload["order_id"], payload["total_cents"]) == (order["id"], 4000)
        assert payload["email"] == customer.email

    def test_after_the_start_only_an_admin_can_cancel(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        admin: TestUser,
        database_url: str,
    ) -> None:
        event = make_event()
        order = buy(client, event, customer, items(event, 2))
        run_sql(
            database_url,
            "UPDATE events SET starts_at = now() - interval '1 hour' WHERE id = %s",
            event["id"],
        )
        url = f"/orders/{order['id']}/cancel"

        by_buyer = client.post(url, headers=customer.headers)
        by_admin = client.post(url, headers=admin.headers)

        assert by_buyer.status_code == 409
        assert by_buyer.json()["error"] == "event_started"
        assert by_admin.json()["status"] == "refunded"
        assert available(client, event) == 10

    def test_cancelling_twice_answers_the_refunded_order(
        self, client: TestClient, make_event: EventFactory, customer: TestUser
    ) -> None:
        event = make_event()
        order = buy(client, event, customer, items(event, 2))
        url = f"/orders/{order['id']}/cancel"

        first = client.post(url, headers=customer.headers)
        second = client.post(url, headers=customer.headers)

        assert second.status_code == 200
        assert second.json() == first.json()
        assert available(client, event) == 10

    def test_strangers_get_404_and_the_event_owner_may_not_refund(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        organizer: TestUser,
        make_user: Buyer,
    ) -> None:
        event = make_event()
        order = buy(client, event, customer, items(event, 1))
        url = f"/orders/{order['id']}/cancel"

        stranger = client.post(url, headers=make_user().headers)
        owner = client.post(url, headers=organizer.headers)

        assert stranger.status_code == 404
        assert stranger.json()["error"] == "order_not_found"
        assert owner.status_code == 403
        assert available(client, event) == 9


class TestTickets:
    def test_lists_only_the_callers_tickets(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        make_user: Buyer,
    ) -> None:
        first, second = make_event(), make_event()
        buy(client, first, customer, items(first, 2))
        buy(client, second, customer, items(second, 1))
        buy(client, first, make_user(), items(first, 3))

        everything = client.get("/tickets", headers=customer.headers).json()
        one_event = client.get(
            "/tickets", params={"event_id": first["id"]}, headers=customer.headers
        ).json()

        assert everything["total"] == 3
        assert one_event["total"] == 2
        assert {t["event_id"] for t in one_event["items"]} == {first["id"]}

    def test_check_in_admits_once_and_remembers_when(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        organizer: TestUser,
    ) -> None:
        event = make_event()
        code = buy(client, event, customer, items(event, 1))["tickets"][0]["code"]
        url = f"/tickets/{code}/check-in"

        first = client.post(url, headers=organizer.headers)
        second = client.post(url, headers=organizer.headers)

        assert first.status_code == 200
        assert first.json()["checked_in_at"] is not None
        assert second.status_code == 409
        assert second.json()["error"] == "already_checked_in"
        assert second.json()["checked_in_at"] == first.json()["checked_in_at"]

    def test_a_void_ticket_is_refused_at_the_door(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        admin: TestUser,
    ) -> None:
        event = make_event()
        order = buy(client, event, customer, items(event, 1))
        client.post(f"/orders/{order['id']}/cancel", headers=customer.headers)

        response = client.post(
            f"/tickets/{order['tickets'][0]['code']}/check-in", headers=admin.headers
        )

        assert response.status_code == 409
        assert response.json()["error"] == "ticket_void"

    def test_only_staff_of_the_event_can_check_in(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        make_user: Buyer,
    ) -> None:
        event = make_event()
        code = buy(client, event, customer, items(event, 1))["tickets"][0]["code"]
        url = f"/tickets/{code}/check-in"

        as_customer = client.post(url, headers=customer.headers)
        other_organizer = client.post(url, headers=make_user("organizer").headers)
        unknown = client.post(
            "/tickets/not-a-real-code/check-in", headers=make_user("admin").headers
        )

        assert as_customer.status_code == 403
        assert other_organizer.status_code == 404
        assert other_organizer.json()["error"] == "ticket_not_found"
        assert unknown.status_code == 404
