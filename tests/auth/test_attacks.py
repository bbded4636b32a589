"""What an attacker tries first: forged tokens, replayed refresh tokens,
huge bodies, and the wrong role."""

import base64
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from shared.settings import Settings
from shared.tokens import key_id
from tests.auth.conftest import bearer, claims_for, signed
from tests.conftest import TEST_JWT_SECRET, TestUser

Tokens = Callable[[TestUser], dict[str, Any]]


def me_status(client: TestClient, token: str) -> int:
    return client.get("/auth/me", headers=bearer(token)).status_code


class TestForgedAccessTokens:
    def test_a_well_formed_token_is_accepted(
        self, client: TestClient, customer: TestUser
    ) -> None:
        assert me_status(client, signed(claims_for(customer))) == 200

    def test_alg_none_is_refused(self, client: TestClient, admin: TestUser) -> None:
        header = {"alg": "none", "typ": "JWT", "kid": key_id(TEST_JWT_SECRET)}
        parts = [header, claims_for(admin)]
        encoded = [
            base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
            for part in parts
        ]

        assert me_status(client, ".".join(encoded) + ".") == 401

    def test_token_signed_with_another_key_is_refused(
        self, client: TestClient, customer: TestUser
    ) -> None:
        other = "another-secret-" + "y" * 40
        forged = jwt.encode(
            claims_for(customer),
            other,
            algorithm="HS256",
            headers={"kid": key_id(TEST_JWT_SECRET)},
        )

        assert me_status(client, forged) == 401
        assert me_status(client, signed(claims_for(customer), other)) == 401

    def test_tampered_role_claim_is_refused(
        self, client: TestClient, customer: TestUser
    ) -> None:
        header, payload, signature = signed(claims_for(customer)).split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["role"] = "admin"
        forged_payload = (
            base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        )
        forged = f"{header}.{forged_payload}.{signature}"

        assert me_status(client, forged) == 401
        assert client.get("/users", headers=bearer(forged)).status_code == 401

    @pytest.mark.parametrize(
        "changes",
        [
            {"exp": int(time.time()) - 60},
            {"aud": "someone-else"},
            {"iss": "someone-else"},
        ],
        ids=["expired", "wrong-aud", "wrong-iss"],
    )
    def test_expired_or_foreign_token_is_refused(
        self, client: TestClient, customer: TestUser, changes: dict[str, Any]
    ) -> None:
        response = client.get(
            "/auth/me", headers=bearer(signed(claims_for(customer, **changes)))
        )

        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    @pytest.mark.parametrize("claim", ["exp", "iat", "sub", "aud", "iss"])
    def test_token_missing_a_required_claim_is_refused(
        self, client: TestClient, customer: TestUser, claim: str
    ) -> None:
        claims = claims_for(customer)
        del claims[claim]

        assert me_status(client, signed(claims)) == 401

    def test_token_of_a_previous_secret_still_works_after_rotation(
        self,
        client: TestClient,
        customer: TestUser,
        configure: Callable[..., Settings],
    ) -> None:
        before_rotation = signed(claims_for(customer))
        configure(
            jwt_secret="rotated-secret-" + "z" * 40,
            jwt_previous_secrets=[TEST_JWT_SECRET],
        )

        assert me_status(client, before_rotation) == 200

    def test_token_of_a_deleted_user_is_refused(
        self, client: TestClient, admin: TestUser, customer: TestUser
    ) -> None:
        client.delete(f"/users/{customer.id}", headers=admin.headers)

        assert client.get("/auth/me", headers=customer.headers).status_code == 401


class TestStolenRefreshTokens:
    def test_a_token_used_twice_is_reuse_and_ends_the_whole_login(
        self, client: TestClient, customer: TestUser, tokens: Tokens
    ) -> None:
        stolen = {"refresh_token": tokens(customer)["refresh_token"]}
        owner_next = client.post("/auth/refresh", json=stolen).json()

        replay = client.post("/auth/refresh", json=stolen)

        assert replay.status_code == 401
        assert replay.json()["error"] == "token_reused"
        descendant = {"refresh_token": owner_next["refresh_token"]}
        assert client.post("/auth/refresh", json=descendant).status_code == 401

    def test_reuse_leaves_the_users_other_logins_alone(
        self, client: TestClient, customer: TestUser, tokens: Tokens
    ) -> None:
        stolen = {"refresh_token": tokens(customer)["refresh_token"]}
        other_device = {"refresh_token": tokens(customer)["refresh_token"]}
        client.post("/auth/refresh", json=stolen)

        client.post("/auth/refresh", json=stolen)

        assert client.post("/auth/refresh", json=other_device).status_code == 200

    def test_two_concurrent_refreshes_with_one_token_exactly_one_wins(
        self, client: TestClient, customer: TestUser, tokens: Tokens
    ) -> None:
        body = {"refresh_token": tokens(customer)["refresh_token"]}
        answers: list[tuple[int, str | None]] = []
        start = threading.Barrier(8)

        def spend() -> None:
            start.wait()
            response = client.post("/auth/refresh", json=body)
            answers.append((response.status_code, response.json().get("error")))

        threads = [threading.Thread(target=spend) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sorted(answers, key=str) == [(200, None)] + [(401, "token_reused")] * 7

    def test_a_deactivated_users_refresh_token_is_refused(
        self,
        client: TestClient,
        customer: TestUser,
        tokens: Tokens,
        query: Callable[..., list[tuple[Any, ...]]],
    ) -> None:
        body = {"refresh_token": tokens(customer)["refresh_token"]}
        # Straight in the database, so that no revocation helps.
        query("UPDATE users SET is_active = false WHERE id = %s", customer.id)

        response = client.post("/auth/refresh", json=body)

        assert response.status_code == 401


class TestOtherAttacks:
    def test_customer_calling_users_gets_403(
        self, client: TestClient, customer: TestUser
    ) -> None:
        response = client.get("/users", headers=customer.headers)

        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"

    def test_a_3_mib_body_is_refused_with_413(self, client: TestClient) -> None:
        body = {"email": "a@example.com", "password": "x" * (3 * 1024 * 1024)}

        response = client.post("/auth/register", json={**body, "full_name": "Big"})

        assert response.status_code == 413
        assert response.json()["error"] == "payload_too_large"

    def test_registering_an_existing_email_in_another_case_is_409(
        self, client: TestClient, customer: TestUser
    ) -> None:
        body = {
            "email": customer.email.upper(),
            "password": "long enough",
            "full_name": "Copycat",
        }

        response = client.post("/auth/register", json=body)

        assert response.status_code == 409
        assert response.json()["error"] == "email_taken"
