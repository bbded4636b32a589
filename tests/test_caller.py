"""The bearer-token dependency every protected route relies on."""

from collections.abc import Callable, Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from shared.app import create_app
from shared.auth import AdminCaller, CurrentCaller
from shared.settings import Settings
from tests.conftest import TestUser, open_client

router = APIRouter()


@router.get("/whoami")
async def whoami(caller: CurrentCaller) -> dict[str, str]:
    return {"id": str(caller.id), "role": caller.role}


@router.get("/admin-only")
async def admin_only(caller: AdminCaller) -> dict[str, str]:
    return {"id": str(caller.id)}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    yield from open_client(create_app("test", [router]))


def test_valid_token_resolves_the_caller(
    client: TestClient, customer: TestUser
) -> None:
    response = client.get("/whoami", headers=customer.headers)

    assert response.json() == {"id": str(customer.id), "role": "customer"}


def test_missing_token_is_401_with_bearer_challenge(client: TestClient) -> None:
    response = client.get("/whoami")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_garbage_token_is_401(client: TestClient) -> None:
    response = client.get("/whoami", headers={"Authorization": "Bearer not.a.jwt"})

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_wrong_role_is_403(client: TestClient, customer: TestUser) -> None:
    response = client.get("/admin-only", headers=customer.headers)

    assert response.status_code == 403


def test_deactivated_users_token_is_refused(
    client: TestClient, make_user: Callable[..., TestUser]
) -> None:
    inactive = make_user("admin", is_active=False)

    assert client.get("/whoami", headers=inactive.headers).status_code == 401
