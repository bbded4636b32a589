"""Every row of the Users table of API.md: the admin's users table."""

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.auth.conftest import Login, bearer, claims_for, signed
from tests.conftest import TestUser

Query = Callable[..., list[tuple[Any, ...]]]


def emails(response: Any) -> list[str]:
    return [user["email"] for user in response.json()["items"]]


class TestList:
    def test_pages_with_a_total(
        self, client: TestClient, admin: TestUser, make_user: Callable[..., TestUser]
    ) -> None:
        for number in range(4):
            make_user(email=f"user{number}@example.com")

        response = client.get(
            "/users", params={"page": 2, "page_size": 2}, headers=admin.headers
        )

        assert response.status_code == 200
        page = response.json()
        assert (page["total"], page["page"], page["page_size"]) == (5, 2, 2)
        assert len(page["items"]) == 2

    def test_page_size_above_100_is_refused(
        self, client: TestClient, admin: TestUser
    ) -> None:
        response = client.get("/users?page_size=101", headers=admin.headers)

        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "query.page_size"

    def test_searches_part_of_email_or_name_in_any_case(
        self, client: TestClient, admin: TestUser, make_user: Callable[..., TestUser]
    ) -> None:
        make_user(email="grace@navy.example", full_name="Grace Hopper")
        make_user(email="alan@example.com", full_name="Alan Turing")
        make_user(email="hopper.fan@example.com", full_name="Someone")

        response = client.get("/users?q=HOPP&sort=email", headers=admin.headers)

        assert emails(response) == ["grace@navy.example", "hopper.fan@example.com"]
        assert response.json()["total"] == 2

    @pytest.mark.parametrize("metacharacter", ["%", "_", "\\"])
    def test_sql_metacharacters_in_q_match_only_themselves(
        self,
        client: TestClient,
        admin: TestUser,
        make_user: Callable[..., TestUser],
        metacharacter: str,
    ) -> None:
        make_user(email="plain@example.com", full_name="Plain Name")
        make_user(email="odd@example.com", full_name=f"Odd {metacharacter} Name")

        response = client.get(
            "/users", params={"q": metacharacter}, headers=admin.headers
        )

        assert emails(response) == ["odd@example.com"]

    def test_quote_in_q_is_just_text(self, client: TestClient, admin: TestUser) -> None:
        response = client.get(
            "/users", params={"q": "x' OR '1'='1"}, headers=admin.headers
        )

        assert response.status_code == 200
        assert response.json()["total"] == 0

    def test_filters_by_role_and_by_active(
        self, client: TestClient, admin: TestUser, make_user: Callable[..., TestUser]
    ) -> None:
        make_user("organizer", email="on@example.com")
        make_user("organizer", email="off@example.com", is_active=False)
        make_user("customer", email="buyer@example.com")

        response = client.get(
            "/users?role=organizer&is_active=false", headers=admin.headers
        )

        assert emails(response) == ["off@example.com"]

    @pytest.mark.parametrize(
        ("sort", "expected"),
        [
            ("email", ["a@example.com", "b@example.com", "c@example.com"]),
            ("-email", ["c@example.com", "b@example.com", "a@example.com"]),
            ("full_name", ["c@example.com", "a@example.com", "b@example.com"]),
            ("-full_name", ["b@example.com", "a@example.com", "c@example.com"]),
            ("created_at", ["b@example.com", "c@example.com", "a@example.com"]),
            ("-created_at", ["a@example.com", "c@example.com", "b@example.com"]),
            ("last_login_at", ["c@example.com", "b@example.com", "a@example.com"]),
            ("-last_login_at", ["b@example.com", "c@example.com", "a@example.com"]),
        ],
    )
    def test_sorts_each_way_with_never_logged_in_last(
        self,
        client: TestClient,
        make_user: Callable[..., TestUser],
        query: Query,
        sort: str,
        expected: list[str],
    ) -> None:
        admin = make_user("admin", email="z@example.com")
        for email, name, created, last_login in [
            ("b@example.com", "Zed", "2026-01-01", "2026-03-01"),
            ("c@example.com", "Amy", "2026-01-02", "2026-02-01"),
            ("a@example.com", "Mia", "2026-01-03", None),
        ]:
            make_user(email=email, full_name=name)
            query(
                "UPDATE users SET created_at = %s, last_login_at = %s WHERE email = %s",
                created,
                last_login,
                email,
            )

        response = client.get(
            "/users", params={"sort": sort, "role": "customer"}, headers=admin.headers
        )

        assert emails(response) == expected

    def test_equal_values_page_stably_by_id(
        self, client: TestClient, admin: TestUser, make_user: Callable[..., TestUser]
    ) -> None:
        for number in range(6):
            make_user(email=f"twin{number}@example.com", full_name="Same Name")
        seen = []

        for page in (1, 2, 3):
            response = client.get(
                "/users",
                params={"q": "twin", "sort": "full_name", "page": page, "page_size": 2},
                headers=admin.headers,
            )
            seen += emails(response)

        assert sorted(seen) == [f"twin{number}@example.com" for number in range(6)]

    def test_unknown_sort_is_refused(self, client: TestClient, admin: TestUser) -> None:
        response = client.get("/users?sort=password_hash", headers=admin.headers)

        assert response.status_code == 422

    def test_customer_and_organizer_get_403(
        self, client: TestClient, customer: TestUser, organizer: TestUser
    ) -> None:
        for caller in (customer, organizer):
            response = client.get("/users", headers=caller.headers)

            assert response.status_code == 403

    def test_anonymous_gets_401(self, client: TestClient) -> None:
        assert client.get("/users").status_code == 401


class TestCreate:
    def test_creates_any_role_that_can_log_in(
        self, client: TestClient, admin: TestUser, login: Login
    ) -> None:
        body = {
            "email": "New.Staff@Example.com",
            "password": "staff password",
            "full_name": "New Staff",
            "role": "organizer",
        }

        response = client.post("/users", json=body, headers=admin.headers)

        assert response.status_code == 201
        assert response.json()["role"] == "organizer"
        assert response.json()["email"] == "new.staff@example.com"
        assert login("new.staff@example.com", "staff password").status_code == 200

    def test_taken_email_in_another_case_is_409(
        self, client: TestClient, admin: TestUser, customer: TestUser
    ) -> None:
        body = {
            "email": customer.email.upper(),
            "password": "staff password",
            "full_name": "Copy",
            "role": "customer",
        }

        response = client.post("/users", json=body, headers=admin.headers)

        assert response.status_code == 409
        assert response.json()["error"] == "email_taken"


class TestGet:
    def test_shows_one_user(
        self, client: TestClient, admin: TestUser, customer: TestUser
    ) -> None:
        response = client.get(f"/users/{customer.id}", headers=admin.headers)

        assert response.json()["email"] == customer.email

    def test_unknown_id_is_404(self, client: TestClient, admin: TestUser) -> None:
        response = client.get(
            "/users/00000000-0000-0000-0000-000000000000", headers=admin.headers
        )

        assert response.status_code == 404
        assert response.json()["error"] == "user_not_found"


class TestUpdate:
    def test_changes_name_and_role(
        self, client: TestClient, admin: TestUser, customer: TestUser
    ) -> None:
        response = client.patch(
            f"/users/{customer.id}",
            json={"full_name": "Promoted", "role": "organizer"},
            headers=admin.headers,
        )

        assert response.status_code == 200
        assert response.json()["role"] == "organizer"
        assert response.json()["full_name"] == "Promoted"

    @pytest.mark.parametrize(
        "change", [{"is_active": False}, {"password": "reset by admin"}]
    )
    def test_deactivation_or_new_password_ends_the_users_sessions(
        self,
        client: TestClient,
        admin: TestUser,
        customer: TestUser,
        tokens: Callable[[TestUser], dict[str, Any]],
        change: dict[str, Any],
    ) -> None:
        session = {"refresh_token": tokens(customer)["refresh_token"]}

        client.patch(f"/users/{customer.id}", json=change, headers=admin.headers)

        assert client.post("/auth/refresh", json=session).status_code == 401

    def test_a_password_reset_refuses_the_users_earlier_access_tokens(
        self, client: TestClient, admin: TestUser, customer: TestUser
    ) -> None:
        earlier = bearer(signed(claims_for(customer, iat=int(time.time()) - 5)))

        client.patch(
            f"/users/{customer.id}",
            json={"password": "reset by admin"},
            headers=admin.headers,
        )

        assert client.get("/auth/me", headers=earlier).status_code == 401

    def test_deactivated_users_access_token_stops_working(
        self, client: TestClient, admin: TestUser, customer: TestUser
    ) -> None:
        client.patch(
            f"/users/{customer.id}", json={"is_active": False}, headers=admin.headers
        )

        assert client.get("/auth/me", headers=customer.headers).status_code == 401

    @pytest.mark.parametrize("change", [{"is_active": False}, {"role": "customer"}])
    def test_last_admin_can_be_neither_deactivated_nor_demoted(
        self, client: TestClient, admin: TestUser, change: dict[str, Any]
    ) -> None:
        response = client.patch(
            f"/users/{admin.id}", json=change, headers=admin.headers
        )

        assert response.status_code == 409
        assert response.json()["error"] == "last_admin"

    def test_an_admin_may_step_down_while_another_remains(
        self, client: TestClient, make_user: Callable[..., TestUser]
    ) -> None:
        first, second = make_user("admin"), make_user("admin")

        response = client.patch(
            f"/users/{first.id}", json={"role": "organizer"}, headers=second.headers
        )

        assert response.status_code == 200

    def test_two_admins_deactivating_each_other_at_once_leave_one(
        self, client: TestClient, make_user: Callable[..., TestUser], query: Query
    ) -> None:
        first, second = make_user("admin"), make_user("admin")
        statuses: list[int] = []

        def deactivate(caller: TestUser, target: TestUser) -> None:
            response = client.patch(
                f"/users/{target.id}", json={"is_active": False}, headers=caller.headers
            )
            statuses.append(response.status_code)

        threads = [
            threading.Thread(target=deactivate, args=(first, second)),
            threading.Thread(target=deactivate, args=(second, first)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        active = query("SELECT count(*) FROM users WHERE role = 'admin' AND is_active")
        assert active == [(1,)]
        assert 200 in statuses

    def test_unknown_id_is_404(self, client: TestClient, admin: TestUser) -> None:
        response = client.patch(
            "/users/00000000-0000-0000-0000-000000000000",
            json={"full_name": "Nobody"},
            headers=admin.headers,
        )

        assert response.status_code == 404


class TestDelete:
    def test_removes_a_user_without_history(
        self, client: TestClient, admin: TestUser, customer: TestUser
    ) -> None:
        response = client.delete(f"/users/{customer.id}", headers=admin.headers)

        assert response.status_code == 204
        lookup = client.get(f"/users/{customer.id}", headers=admin.headers)
        assert lookup.status_code == 404

    def test_user_with_orders_is_anonymised_and_orders_stay(
        self,
        client: TestClient,
        admin: TestUser,
        customer: TestUser,
        login: Login,
        query: Query,
    ) -> None:
        [(event_id,)] = query(
            "INSERT INTO events (name, venue, starts_at, currency, created_by) "
            "VALUES ('Gig', 'Hall', now(), 'EUR', %s) RETURNING id",
            admin.id,
        )
        query(
            "INSERT INTO orders (user_id, event_id, total_cents, currency) "
            "VALUES (%s, %s, 2500, 'EUR')",
            customer.id,
            event_id,
        )

        response = client.delete(f"/users/{customer.id}", headers=admin.headers)

        assert response.status_code == 204
        user = client.get(f"/users/{customer.id}", headers=admin.headers).json()
        assert user["email"] == f"deleted-{customer.id}@deleted.invalid"
        assert user["full_name"] == "Deleted user"
        assert user["is_active"] is False
        assert query("SELECT total_cents FROM orders") == [(2500,)]
        assert login(customer.email, customer.password).status_code == 401

    def test_last_admin_cannot_be_deleted(
        self, client: TestClient, admin: TestUser
    ) -> None:
        response = client.delete(f"/users/{admin.id}", headers=admin.headers)

        assert response.status_code == 409
        assert response.json()["error"] == "last_admin"

    def test_unknown_id_is_404(self, client: TestClient, admin: TestUser) -> None:
        response = client.delete(
            "/users/00000000-0000-0000-0000-000000000000", headers=admin.headers
        )

        assert response.status_code == 404
