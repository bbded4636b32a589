"""``eventscale create-admin`` on the command line."""

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from tests.auth.conftest import Login
from tests.conftest import TEST_JWT_SECRET

EVENTSCALE = Path(sys.executable).with_name("eventscale")


def run_create_admin(
    database_url: str, email: str, **env: str
) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if k != "ADMIN_PASSWORD"}
    environment = {
        **inherited,
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "JWT_SECRET": TEST_JWT_SECRET,
        **env,
    }
    return subprocess.run(
        [str(EVENTSCALE), "create-admin", email],
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_creates_an_admin_who_can_log_in(database_url: str, login: Login) -> None:
    result = run_create_admin(
        database_url, "Boss@Example.com", ADMIN_PASSWORD="boss password"
    )

    assert result.returncode == 0, result.stderr
    response = login("boss@example.com", "boss password")
    assert response.status_code == 200


def test_running_it_again_sets_a_new_password_and_ends_old_sessions(
    database_url: str, client: TestClient, login: Login
) -> None:
    run_create_admin(database_url, "boss@example.com", ADMIN_PASSWORD="first one!")
    first_login = login("boss@example.com", "first one!").json()
    session = {"refresh_token": first_login["refresh_token"]}

    result = run_create_admin(
        database_url, "boss@example.com", ADMIN_PASSWORD="second one"
    )

    assert result.returncode == 0, result.stderr
    assert login("boss@example.com", "first one!").status_code == 401
    assert login("boss@example.com", "second one").status_code == 200
    assert client.post("/auth/refresh", json=session).status_code == 401


def test_without_a_password_or_a_terminal_it_refuses(database_url: str) -> None:
    result = run_create_admin(database_url, "boss@example.com")

    assert result.returncode == 2
    assert "ADMIN_PASSWORD" in result.stderr
