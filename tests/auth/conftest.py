"""Fixtures for the auth and users tests: logging in through the API."""

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx
import jwt
import psycopg
import pytest
from fastapi.testclient import TestClient

from shared import settings as settings_module
from shared.settings import Settings
from shared.tokens import key_id
from tests.conftest import TEST_JWT_SECRET, TestUser

Login = Callable[..., httpx.Response]


@pytest.fixture
def login(client: TestClient) -> Login:
    def post(email: str, password: str, **kwargs: Any) -> httpx.Response:
        body = {"email": email, "password": password}
        return client.post("/auth/login", json=body, **kwargs)

    return post


@pytest.fixture
def tokens(login: Login) -> Callable[[TestUser], dict[str, Any]]:
    """A fresh token pair for a user, from a real login."""

    def tokens_for(user: TestUser) -> dict[str, Any]:
        response = login(user.email, user.password)
        assert response.status_code == 200, response.text
        pair: dict[str, Any] = response.json()
        return pair

    return tokens_for


@pytest.fixture
def query(database_url: str) -> Callable[..., list[tuple[Any, ...]]]:
    """Run SQL straight against the test database (to look or to arrange)."""

    def run(statement: str, *params: object) -> list[tuple[Any, ...]]:
        with psycopg.connect(database_url, autocommit=True) as conn:
            cursor = conn.execute(statement.encode(), params)
            return cursor.fetchall() if cursor.description else []

    return run


@pytest.fixture
def configure(settings: Settings) -> Iterator[Callable[..., Settings]]:
    """Change some settings for one test; the `settings` fixture restores."""

    def apply(**changes: object) -> Settings:
        changed = Settings.model_validate({**settings.model_dump(), **changes})
        settings_module.configure(changed)
        return changed

    yield apply


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def claims_for(user: TestUser, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": str(user.id),
        "role": user.role,
        "iat": now,
        "exp": now + 600,
        "iss": "eventscale",
        "aud": "eventscale-api",
        "jti": uuid.uuid4().hex,
    }
    return {**claims, **changes}


def signed(claims: dict[str, Any], secret: str = TEST_JWT_SECRET) -> str:
    return jwt.encode(
        claims, secret, algorithm="HS256", headers={"kid": key_id(secret)}
    )
