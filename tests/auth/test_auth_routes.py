"""Every row of the Auth table of API.md, through the HTTP API."""

import time
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.auth.conftest import Login, bearer, claims_for, signed
from tests.conftest import TestUser

USER_FIELDS = {
    "id",
    "email",
    "full_name",
    "role",
    "is_active",
    "created_at",
    "updated_at",
    "last_login_at",
}
NEW_ACCOUNT = {
    "email": "Ada.Lovelace@Example.COM",
    "password": "analytical engine",
    "full_name": "Ada Lovelace",
}


class TestRegister:
    def test_creates_a_customer_and_shows_no_hash(self, client: TestClient) -> None:
        response = client.post("/auth/register", json=NEW_ACCOUNT)

        assert response.status_code == 201
        user = response.json()
        assert set(user) == USER_FIELDS
        assert user["role"] == "customer"
        assert user["email"] == "ada.lovelace@example.com"
        assert user["is_active"] is True
        assert user["last_login_at"] is None

    def test_writes_a_welcome_message_to_the_outbox(
        self, client: TestClient, query: Callable[..., list[tuple[Any, ...]]]
    ) -> None:
        user = client.post("/auth/register", json=NEW_ACCOUNT).json()

        rows = query("SELECT topic, payload FROM outbox")
        assert rows == [
            (
                "user.registered",
                {
                    "user_id": user["id"],
                    "email": "ada.lovelace@example.com",
                    "full_name": "Ada Lovelace",
                },
            )
        ]

    def test_email_in_another_case_is_taken(self, client: TestClient) -> None:
        client.post("/auth/register", json=NEW_ACCOUNT)

        again = {**NEW_ACCOUNT, "email": "ADA.LOVELACE@example.com"}
        response = client.post("/auth/register", json=again)

        assert response.status_code == 409
        assert response.json()["error"] == "email_taken"

    def test_password_shorter_than_8_or_longer_than_128_is_refused(
        self, client: TestClient
    ) -> None:
        for password in ["short", "x" * 129]:
            body = {**NEW_ACCOUNT, "password": password}
            response = client.post("/auth/register", json=body)

            assert response.status_code == 422
            assert response.json()["fields"][0]["field"] == "body.password"

    def test_malformed_email_is_refused(self, client: TestClient) -> None:
        body = {**NEW_ACCOUNT, "email": "not-an-email"}

        response = client.post("/auth/register", json=body)

        assert response.status_code == 422
        assert response.json()["fields"][0]["field"] == "body.email"

    def test_stores_only_an_argon2id_hash(
        self, client: TestClient, query: Callable[..., list[tuple[Any, ...]]]
    ) -> None:
        client.post("/auth/register", json=NEW_ACCOUNT)

        [(stored,)] = query("SELECT password_hash FROM users")
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert NEW_ACCOUNT["password"] not in stored


class TestLogin:
    def test_answers_a_token_pair_that_opens_me(
        self, client: TestClient, login: Login, customer: TestUser
    ) -> None:
        response = login(customer.email, customer.password)

        assert response.status_code == 200
        pair = response.json()
        assert pair["token_type"] == "bearer"
        assert pair["expires_in"] == 15 * 60
        me = client.get("/auth/me", headers=bearer(pair["access_token"]))
        assert me.json()["id"] == str(customer.id)
        assert me.json()["last_login_at"] is not None

    def test_email_in_another_case_logs_in(
        self, login: Login, customer: TestUser
    ) -> None:
        response = login(customer.email.upper(), customer.password)

        assert response.status_code == 200

    def test_wrong_password_and_unknown_email_get_the_same_answer(
        self, login: Login, customer: TestUser
    ) -> None:
        wrong_password = login(customer.email, "not the password")
        unknown_email = login("nobody@example.com", "not the password")

        assert wrong_password.status_code == unknown_email.status_code == 401
        assert wrong_password.json() == unknown_email.json()
        assert wrong_password.json()["error"] == "invalid_credentials"

    def test_disabled_account_is_told_only_after_the_right_password(
        self, login: Login, make_user: Callable[..., TestUser]
    ) -> None:
        disabled = make_user(is_active=False)

        assert login(disabled.email, "not the password").status_code == 401
        response = login(disabled.email, disabled.password)
        assert response.status_code == 403
        assert response.json()["error"] == "account_disabled"

    def test_oauth2_password_form_logs_in_too(
        self, client: TestClient, customer: TestUser
    ) -> None:
        form = {"username": customer.email, "password": customer.password}

        response = client.post("/auth/token", data=form)

        assert response.status_code == 200
        assert response.json()["token_type"] == "bearer"

    def test_oauth2_password_form_refuses_a_wrong_password(
        self, client: TestClient, customer: TestUser
    ) -> None:
        form = {"username": customer.email, "password": "not the password"}

        response = client.post("/auth/token", data=form)

        assert response.status_code == 401
        assert response.json()["error"] == "invalid_credentials"

    def test_oauth2_form_with_a_username_that_is_no_email_is_just_wrong(
        self, client: TestClient
    ) -> None:
        form = {"username": "not an email", "password": "whatever"}

        response = client.post("/auth/token", data=form)

        assert response.status_code == 401
        assert response.json()["error"] == "invalid_credentials"


class TestRefresh:
    def test_answers_a_new_pair_and_the_used_token_stops_working(
        self,
        client: TestClient,
        customer: TestUser,
        tokens: Callable[[TestUser], dict[str, Any]],
    ) -> None:
        first = tokens(customer)

        response = client.post(
            "/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )

        assert response.status_code == 200
        second = response.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert client.get("/auth/me", headers=bearer(second["access_token"])).is_success
        again = client.post(
            "/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert again.status_code == 401

    def test_unknown_token_is_401(self, client: TestClient) -> None:
        response = client.post("/auth/refresh", json={"refresh_token": "made-up"})

        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"

    def test_expired_token_is_401(
        self,
        client: TestClient,
        customer: TestUser,
        tokens: Callable[[TestUser], dict[str, Any]],
        query: Callable[..., list[tuple[Any, ...]]],
    ) -> None:
        pair = tokens(customer)
        query("UPDATE refresh_tokens SET expires_at = now() - interval '1 second'")

        response = client.post(
            "/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        )

        assert response.status_code == 401
        assert response.json()["error"] == "invalid_token"

    def test_tokens_are_stored_only_as_hashes(
        self,
        customer: TestUser,
        tokens: Callable[[TestUser], dict[str, Any]],
        query: Callable[..., list[tuple[Any, ...]]],
    ) -> None:
        pair = tokens(customer)

        [(stored,)] = query("SELECT token_hash FROM refresh_tokens")
        assert pair["refresh_token"].encode() not in bytes(stored)
        assert len(pair["refresh_token"]) >= 43  # 256 bits, base64url


class TestLogout:
    def test_the_refresh_token_stops_working(
        self,
        client: TestClient,
        customer: TestUser,
        tokens: Callable[[TestUser], dict[str, Any]],
    ) -> None:
        body = {"refresh_token": tokens(customer)["refresh_token"]}

        response = client.post("/auth/logout", json=body)

        assert response.status_code == 204
        assert client.post("/auth/refresh", json=body).status_code == 401

    def test_other_sessions_stay_logged_in(
        self,
        client: TestClient,
        customer: TestUser,
        tokens: Callable[[TestUser], dict[str, Any]],
    ) -> None:
        laptop, phone = tokens(customer), tokens(customer)

        client.post("/auth/logout", json={"refresh_token": laptop["refresh_token"]})

        body = {"refresh_token": phone["refresh_token"]}
        assert client.post("/auth/refresh", json=body).status_code == 200

    def test_an_unknown_token_is_still_204(self, client: TestClient) -> None:
        response = client.post("/auth/logout", json={"refresh_token": "made-up"})

        assert response.status_code == 204


class TestMe:
    def test_shows_the_caller(self, client: TestClient, organizer: TestUser) -> None:
        response = client.get("/auth/me", headers=organizer.headers)

        assert response.status_code == 200
        assert set(response.json()) == USER_FIELDS
        assert response.json()["role"] == "organizer"

    def test_without_a_token_is_401_with_a_bearer_challenge(
        self, client: TestClient
    ) -> None:
        response = client.get("/auth/me")

        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    def test_renames_the_caller(self, client: TestClient, customer: TestUser) -> None:
        response = client.patch(
            "/auth/me", json={"full_name": "  New Name "}, headers=customer.headers
        )

        assert response.status_code == 200
        assert response.json()["full_name"] == "New Name"

    def test_password_change_needs_the_current_password(
        self, client: TestClient, customer: TestUser
    ) -> None:
        for current in [None, "not the password"]:
            body = {"password": "a brand new one", "current_password": current}
            response = client.patch("/auth/me", json=body, headers=customer.headers)

            assert response.status_code == 403
            assert response.json()["error"] == "invalid_credentials"

    def test_password_change_ends_every_session_and_the_old_password(
        self,
        client: TestClient,
        login: Login,
        customer: TestUser,
        tokens: Callable[[TestUser], dict[str, Any]],
    ) -> None:
        session = tokens(customer)
        body = {"password": "a brand new one", "current_password": customer.password}

        response = client.patch("/auth/me", json=body, headers=customer.headers)

        assert response.status_code == 200
        refresh = {"refresh_token": session["refresh_token"]}
        assert client.post("/auth/refresh", json=refresh).status_code == 401
        assert login(customer.email, customer.password).status_code == 401
        assert login(customer.email, "a brand new one").status_code == 200

    def test_password_change_refuses_access_tokens_issued_before_it(
        self, client: TestClient, customer: TestUser
    ) -> None:
        earlier = bearer(signed(claims_for(customer, iat=int(time.time()) - 5)))
        body = {"password": "a brand new one", "current_password": customer.password}

        client.patch("/auth/me", json=body, headers=earlier)

        assert client.get("/auth/me", headers=earlier).status_code == 401

    def test_new_password_follows_the_length_rule(
        self, client: TestClient, customer: TestUser
    ) -> None:
        body = {"password": "short", "current_password": customer.password}

        response = client.patch("/auth/me", json=body, headers=customer.headers)

        assert response.status_code == 422
