"""``eventscale create-admin`` on the command line."""

import os
import subprocess
import sys
from pathlib import Path

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


def test_without_a_password_or_a_terminal_it_refuses(database_url: str) -> None:
    result = run_create_admin(database_url, "boss@example.com")

    assert result.returncode == 2
    assert "ADMIN_PASSWORD" in result.stderr
