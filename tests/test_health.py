from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared import settings as settings_module
from shared.app import create_app
from shared.settings import Settings
from tests.conftest import make_settings, open_client


def test_health_is_ok_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "queue": "inline"}


@pytest.fixture
def unreachable_database(settings: Settings, tmp_path: Path) -> Iterator[None]:
    settings_module.configure(
        make_settings(
            "postgresql://postgres@127.0.0.1:1/nowhere",
            tmp_path,
            database_pool_timeout=1,
            database_connect_timeout=1,
        )
    )
    yield


def test_health_is_degraded_when_the_database_is_down(
    unreachable_database: None,
) -> None:
    for client in open_client(create_app("test")):
        response = client.get("/health")

        assert response.status_code == 503
        assert response.json() == {
            "status": "degraded",
            "database": "down",
            "queue": "inline",
        }


def test_health_reports_the_broker(
    settings: Settings, test_environment: object, tmp_path: Path
) -> None:
    from tests.conftest import TestEnvironment

    assert isinstance(test_environment, TestEnvironment)
    settings_module.configure(
        settings.model_copy(update={"amqp_url": test_environment.amqp_url})
    )
    for client in open_client(create_app("test")):
        assert client.get("/health").json()["queue"] == "ok"


def test_health_is_degraded_when_the_broker_is_down(settings: Settings) -> None:
    settings_module.configure(
        settings.model_copy(update={"amqp_url": "amqp://guest:guest@127.0.0.1:1/%2F"})
    )
    for client in open_client(create_app("test")):
        response = client.get("/health")

        assert response.status_code == 503
        assert response.json()["queue"] == "down"
