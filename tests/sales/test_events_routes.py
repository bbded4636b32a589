"""The Events table of API.md, row by row."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TestUser
from tests.sales.conftest import (
    EventFactory,
    Json,
    event_body,
    in_days,
    items,
    run_sql,
    type_id,
)


class TestListEvents:
    def test_public_sees_only_published_events_in_start_order(
        self, client: TestClient, make_event: EventFactory
    ) -> None:
        later = make_event(name="Later", starts_at=in_days(20))
        sooner = make_event(name="Sooner", starts_at=in_days(10))
        make_event(name="Draft", publish=False)

        response = client.get("/events")

        assert response.status_code == 200
        body = response.json()
        assert [e["id"] for e in body["items"]] == [sooner["id"], later["id"]]
        assert body["total"] == 2
        assert (body["page"], body["page_size"]) == (1, 20)

    def test_pages_are_cut_by_page_and_page_size(
        self, client: TestClient, make_event: EventFactory
    ) -> None:
        ids = [make_event(starts_at=in_days(day))["id"] for day in (1, 2, 3)]

        body = client.get("/events", params={"page": 2, "page_size": 2}).json()

        assert [e["id"] for e in body["items"]] == ids[2:]
        assert body["total"] == 3

    def test_page_size_above_100_is_refused(self, client: TestClient) -> None:
        response = client.get("/events", params={"page_size": 101})

        assert response.status_code == 422
        assert response.json()["error"] == "validation_error"

    def test_filters_by_text_and_start_dates(
        self, client: TestClient, make_event: EventFactory
    ) -> None:
        jazz = make_event(name="Jazz Night", starts_at=in_days(5))
        make_event(name="Rock Night", starts_at=in_days(50))

        by_text = client.get("/events", params={"q": "jAZZ"}).json()
        by_date = client.get("/events", params={"starts_before": in_days(10)}).json()
        after = client.get("/events", params={"starts_after": in_days(10)}).json()

        assert [e["id"] for e in by_text["items"]] == [jazz["id"]]
        assert [e["id"] for e in by_date["items"]] == [jazz["id"]]
        assert [e["name"] for e in after["items"]] == ["Rock Night"]

    def test_staff_filter_by_status_and_organisers_see_their_drafts(
        self,
        client: TestClient,
        make_event: EventFactory,
        admin: TestUser,
        organizer: TestUser,
        make_user: Callable[..., TestUser],
    ) -> None:
        draft = make_event(publish=False)
        other = make_user("organizer")

        as_admin = client.get(
            "/events", params={"status": "draft"}, headers=admin.headers
        )
        as_owner = client.get(
            "/events", params={"status": "draft"}, headers=organizer.headers
        )
        as_other = client.get(
            "/events", params={"status": "draft"}, headers=other.headers
        )

        assert [e["id"] for e in as_admin.json()["items"]] == [draft["id"]]
        assert [e["id"] for e in as_owner.json()["items"]] == [draft["id"]]
        assert as_other.json()["items"] == []


class TestGetEvent:
    def test_published_event_shows_ticket_types_and_availability(
        self, client: TestClient, make_event: EventFactory, customer: TestUser
    ) -> None:
        event = make_event()
        client.post(
            f"/events/{event['id']}/reservations",
            json=items(event, 3),
            headers=customer.headers,
        )

        response = client.get(f"/events/{event['id']}")

        assert response.status_code == 200
        ticket_type = response.json()["ticket_types"][0]
        assert ticket_type["quantity"] == 10
        assert ticket_type["available"] == 7
        assert ticket_type["seating"] == "general"

    def test_a_draft_is_not_found_for_the_public_and_other_organisers(
        self,
        client: TestClient,
        make_event: EventFactory,
        organizer: TestUser,
        make_user: Callable[..., TestUser],
    ) -> None:
        draft = make_event(publish=False)
        other = make_user("organizer")

        public = client.get(f"/events/{draft['id']}")
        stranger = client.get(f"/events/{draft['id']}", headers=other.headers)
        owner = client.get(f"/events/{draft['id']}", headers=organizer.headers)

        assert public.status_code == stranger.status_code == 404
        assert public.json()["error"] == stranger.json()["error"] == "event_not_found"
        assert owner.status_code == 200

    def test_unknown_event_is_404(self, client: TestClient) -> None:
        response = client.get("/events/00000000-0000-0000-0000-000000000000")

        assert response.status_code == 404
        assert response.json()["error"] == "event_not_found"


class TestCreateEvent:
    def test_organiser_creates_a_draft_with_both_kinds_of_ticket_type(
        self, client: TestClient, organizer: TestUser
    ) -> None:
        body = event_body(
            ticket_types=[
                {"name": "Standing", "price_cents": 1000, "quantity": 100},
                {"name": "Stalls", "price_cents": 3000, "seats": ["A-1", "A-2"]},
            ]
        )

        response = client.post("/events", json=body, headers=organizer.headers)

        assert response.status_code == 201
        event = response.json()
        assert event["status"] == "draft"
        assert event["created_by"] == str(organizer.id)
        assert event["max_per_order"] == 10
        stalls = event["ticket_types"][1]
        assert (stalls["seating"], stalls["quantity"]) == ("assigned", 2)

    def test_customers_may_not_and_anonymous_callers_must_log_in(
        self, client: TestClient, customer: TestUser
    ) -> None:
        as_customer = client.post(
            "/events", json=event_body(), headers=customer.headers
        )
        anonymous = client.post("/events", json=event_body())

        assert as_customer.status_code == 403
        assert anonymous.status_code == 401

    def test_refuses_events_without_types_or_with_repeated_labels(
        self, client: TestClient, organizer: TestUser
    ) -> None:
        repeated = [
            {"name": "A", "price_cents": 1, "seats": ["A-1"]},
            {"name": "B", "price_cents": 1, "seats": ["A-1"]},
        ]
        both = [{"name": "A", "price_cents": 1, "quantity": 2, "seats": ["A-1"]}]
        for ticket_types in ([], repeated, both):
            body = event_body(ticket_types=ticket_types)
            response = client.post("/events", json=body, headers=organizer.headers)

            assert response.status_code == 422
            assert response.json()["error"] == "validation_error"


class TestUpdateEvent:
    def test_owner_renames_reprices_and_adds_a_ticket_type(
        self, client: TestClient, make_event: EventFactory, organizer: TestUser
    ) -> None:
        event = make_event()
        patch = {
            "name": "Renamed",
            "ticket_types": [
                {"id": type_id(event), "price_cents": 3000, "quantity": 20},
                {"name": "VIP", "price_cents": 9000, "quantity": 5},
            ],
        }

        response = client.patch(
            f"/events/{event['id']}", json=patch, headers=organizer.headers
        )

        assert response.status_code == 200
        updated = response.json()
        assert updated["name"] == "Renamed"
        general, vip = updated["ticket_types"]
        assert (general["price_cents"], general["quantity"]) == (3000, 20)
        assert (vip["name"], vip["available"]) == ("VIP", 5)

    def test_quantity_cannot_go_below_sold_plus_held(
        self,
        client: TestClient,
        make_event: EventFactory,
        organizer: TestUser,
        customer: TestUser,
    ) -> None:
        event = make_event()
        url = f"/events/{event['id']}"
        client.post(f"{url}/purchase", json=items(event, 3), headers=customer.headers)
        client.post(
            f"{url}/reservations", json=items(event, 2), headers=customer.headers
        )

        too_low = {"ticket_types": [{"id": type_id(event), "quantity": 4}]}
        just_enough = {"ticket_types": [{"id": type_id(event), "quantity": 5}]}
        refused = client.patch(url, json=too_low, headers=organizer.headers)
        accepted = client.patch(url, json=just_enough, headers=organizer.headers)

        assert refused.status_code == 409
        assert refused.json()["error"] == "capacity_below_sold"
        assert accepted.status_code == 200
        assert accepted.json()["ticket_types"][0]["available"] == 0

    def test_seats_are_added_and_free_ones_removed(
        self,
        client: TestClient,
        seated_event: Json,
        organizer: TestUser,
        customer: TestUser,
    ) -> None:
        url = f"/events/{seated_event['id']}"
        client.post(
            f"{url}/reservations", json={"seats": ["A-1"]}, headers=customer.headers
        )
        seats = ["A-1", "A-2", "B-1"]
        patch = {"ticket_types": [{"id": type_id(seated_event), "seats": seats}]}

        response = client.patch(url, json=patch, headers=organizer.headers)

        assert response.status_code == 200
        stalls = response.json()["ticket_types"][0]
        assert (stalls["quantity"], stalls["available"]) == (3, 2)
        seat_map = client.get(f"{url}/seats").json()
        assert [(s["label"], s["status"]) for s in seat_map[:3]] == [
            ("A-1", "held"),
            ("A-2", "available"),
            ("B-1", "available"),
        ]

    def test_sold_or_held_seats_cannot_be_removed(
        self,
        client: TestClient,
        seated_event: Json,
        organizer: TestUser,
        customer: TestUser,
    ) -> None:
        url = f"/events/{seated_event['id']}"
        client.post(
            f"{url}/purchase", json={"seats": ["A-2"]}, headers=customer.headers
        )
        patch = {"ticket_types": [{"id": type_id(seated_event), "seats": ["A-1"]}]}

        response = client.patch(url, json=patch, headers=organizer.headers)

        assert response.status_code == 409
        assert response.json()["error"] == "capacity_below_sold"
        assert response.json()["seats"] == ["A-2"]
        assert len(client.get(f"{url}/seats").json()) == 3

    def test_assigned_seating_changes_by_seats_not_quantity(
        self, client: TestClient, seated_event: Json, organizer: TestUser
    ) -> None:
        patch = {"ticket_types": [{"id": type_id(seated_event), "quantity": 9}]}

        response = client.patch(
            f"/events/{seated_event['id']}", json=patch, headers=organizer.headers
        )

        assert response.status_code == 422
        assert response.json()["error"] == "seating_mismatch"

    def test_other_organisers_get_404_and_admins_may_edit(
        self,
        client: TestClient,
        make_event: EventFactory,
        admin: TestUser,
        make_user: Callable[..., TestUser],
    ) -> None:
        event = make_event()
        other = make_user("organizer")
        url = f"/events/{event['id']}"

        stranger = client.patch(url, json={"name": "Mine"}, headers=other.headers)
        by_admin = client.patch(url, json={"name": "Admin's"}, headers=admin.headers)

        assert stranger.status_code == 404
        assert stranger.json()["error"] == "event_not_found"
        assert by_admin.json()["name"] == "Admin's"

    def test_dates_out_of_order_are_refused(
        self, client: TestClient, make_event: EventFactory, organizer: TestUser
    ) -> None:
        event = make_event(starts_at=in_days(10))

        response = client.patch(
            f"/events/{event['id']}",
            json={"ends_at": in_days(5)},
            headers=organizer.headers,
        )

        assert response.status_code == 422
        assert response.json()["error"] == "invalid_dates"

    @pytest.mark.parametrize("field", ["name", "description", "starts_at"])
    def test_required_fields_cannot_be_emptied(
        self,
        client: TestClient,
        make_event: EventFactory,
        organizer: TestUser,
        field: str,
    ) -> None:
        event = make_event()

        response = client.patch(
            f"/events/{event['id']}", json={field: None}, headers=organizer.headers
        )

        assert response.status_code == 422
        assert response.json()["error"] == "validation_error"


class TestPublishAndDelete:
    def test_publishing_twice_is_an_invalid_state(
        self, client: TestClient, make_event: EventFactory, organizer: TestUser
    ) -> None:
        event = make_event()

        again = client.post(f"/events/{event['id']}/publish", headers=organizer.headers)

        assert event["status"] == "published"
        assert again.status_code == 409
        assert again.json()["error"] == "invalid_state"

    def test_a_draft_is_deleted_and_a_published_event_is_not(
        self, client: TestClient, make_event: EventFactory, organizer: TestUser
    ) -> None:
        draft = make_event(publish=False)
        published = make_event()

        deleted = client.delete(f"/events/{draft['id']}", headers=organizer.headers)
        kept = client.delete(f"/events/{published['id']}", headers=organizer.headers)

        assert deleted.status_code == 204
        assert (
            client.get(f"/events/{draft['id']}", headers=organizer.headers).status_code
            == 404
        )
        assert kept.status_code == 409
        assert kept.json()["error"] == "invalid_state"


class TestCancelEvent:
    def test_cancel_refunds_orders_releases_holds_and_tells_each_buyer_once(
        self,
        client: TestClient,
        make_event: EventFactory,
        organizer: TestUser,
        make_user: Callable[..., TestUser],
        database_url: str,
    ) -> None:
        event = make_event()
        url = f"/events/{event['id']}"
        alice, bob = make_user(full_name="Alice"), make_user(full_name="Bob")
        for buyer in (alice, alice, bob):
            client.post(f"{url}/purchase", json=items(event, 1), headers=buyer.headers)
        hold = client.post(
            f"{url}/reservations", json=items(event, 2), headers=bob.headers
        ).json()

        response = client.post(f"{url}/cancel", headers=organizer.headers)

        assert response.status_code == 200
        assert response.json()["status"] == "cancelled"
        orders = client.get("/orders", headers=alice.headers).json()["items"]
        assert {o["status"] for o in orders} == {"refunded"}
        assert {t["status"] for o in orders for t in o["tickets"]} == {"void"}
        held = client.get(f"/reservations/{hold['id']}", headers=bob.headers).json()
        assert held["status"] == "released"
        [(payload,)] = run_sql(
            database_url, "SELECT payload FROM outbox WHERE topic = 'event.cancelled'"
        )
        recipients = {r["full_name"]: r for r in payload["recipients"]}
        assert set(recipients) == {"Alice", "Bob"}
        assert len(recipients["Alice"]["order_ids"]) == 2
        assert recipients["Bob"]["email"] == bob.email
        assert payload["event"]["name"] == event["name"]
        refunds = run_sql(
            database_url, "SELECT 1 FROM outbox WHERE topic = 'order.refunded'"
        )
        assert refunds == []

    def test_cancelling_twice_is_an_invalid_state(
        self, client: TestClient, make_event: EventFactory, organizer: TestUser
    ) -> None:
        event = make_event()
        client.post(f"/events/{event['id']}/cancel", headers=organizer.headers)

        again = client.post(f"/events/{event['id']}/cancel", headers=organizer.headers)

        assert again.status_code == 409
        assert again.json()["error"] == "invalid_state"


class TestSeatsAndStats:
    def test_seat_map_shows_available_held_and_sold(
        self, client: TestClient, seated_event: Json, customer: TestUser
    ) -> None:
        url = f"/events/{seated_event['id']}"
        client.post(
            f"{url}/purchase", json={"seats": ["A-1"]}, headers=customer.headers
        )
        client.post(
            f"{url}/reservations", json={"seats": ["A-2"]}, headers=customer.headers
        )

        response = client.get(f"{url}/seats")

        assert response.status_code == 200
        assert [(s["label"], s["status"]) for s in response.json()] == [
            ("A-1", "sold"),
            ("A-2", "held"),
            ("A-3", "available"),
        ]
        assert response.json()[0]["ticket_type_id"] == type_id(seated_event)

    def test_general_admission_has_no_seat_map(
        self, client: TestClient, make_event: EventFactory
    ) -> None:
        event = make_event()

        assert client.get(f"/events/{event['id']}/seats").json() == []

    def test_stats_count_sold_held_checked_in_and_revenue(
        self,
        client: TestClient,
        seated_event: Json,
        organizer: TestUser,
        customer: TestUser,
    ) -> None:
        url = f"/events/{seated_event['id']}"
        order = client.post(
            f"{url}/purchase",
            json={"seats": ["A-1"], **items(seated_event, 2, index=1)},
            headers=customer.headers,
        ).json()
        client.post(
            f"{url}/reservations", json={"seats": ["A-2"]}, headers=customer.headers
        )
        code = order["tickets"][0]["code"]
        client.post(f"/tickets/{code}/check-in", headers=organizer.headers)

        stats = client.get(f"{url}/stats", headers=organizer.headers).json()

        assert (stats["sold"], stats["held"], stats["available"]) == (3, 1, 4)
        assert stats["checked_in"] == 1
        assert stats["revenue_cents"] == 4000 + 2 * 1500
        assert stats["currency"] == "EUR"
        stalls = stats["by_ticket_type"][0]
        assert (stalls["name"], stalls["sold"], stalls["held"]) == ("Stalls", 1, 1)

    def test_stats_are_for_staff_who_manage_the_event(
        self,
        client: TestClient,
        make_event: EventFactory,
        customer: TestUser,
        make_user: Callable[..., TestUser],
    ) -> None:
        event = make_event()
        other = make_user("organizer")

        as_customer = client.get(
            f"/events/{event['id']}/stats", headers=customer.headers
        )
        as_other = client.get(f"/events/{event['id']}/stats", headers=other.headers)

        assert as_customer.status_code == 403
        assert as_other.status_code == 404
