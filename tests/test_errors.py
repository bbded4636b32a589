"""Every error, whatever raised it, answers in the shape of API.md."""

from collections.abc import Iterator

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from shared.app import create_app
from shared.errors import Conflict, TooManyRequests
from shared.settings import Settings
from tests.conftest import open_client


class Greeting(BaseModel):
    name: str = Field(min_length=1)
    age: int


router = APIRouter()


@router.post("/greetings")
async def greet(greeting: Greeting) -> dict[str, str]:
    return {"hello": greeting.name}


@router.get("/conflict")
async def conflict() -> None:
    raise Conflict("That email is taken.", code="email_taken")


@router.get("/throttled")
async def throttled() -> None:
    raise TooManyRequests(code="too_many_attempts", retry_after=30)


@router.get("/boom")
async def boom() -> None:
    raise RuntimeError("password=hunter2 in a stack trace")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    yield from open_client(create_app("test", [router]))


def assert_error_shape(body: dict[str, object], code: str) -> None:
    assert body["error"] == code
    assert isinstance(body["detail"], str) and body["detail"]


def test_unknown_path_is_404(client: TestClient) -> None:
    response = client.get("/no/such/path")

    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")


def test_wrong_method_is_405(client: TestClient) -> None:
    response = client.delete("/greetings")

    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")
    assert "POST" in response.headers["allow"]


def test_validation_error_names_each_field(client: TestClient) -> None:
    response = client.post("/greetings", json={"name": "", "age": "old"})

    assert response.status_code == 422
    body = response.json()
    assert_error_shape(body, "validation_error")
    assert {f["field"] for f in body["fields"]} == {"body.name", "body.age"}


def test_malformed_json_is_a_validation_error(client: TestClient) -> None:
    response = client.post(
        "/greetings", content=b'{"name": ', headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert_error_shape(response.json(), "validation_error")


def test_app_error_keeps_its_code(client: TestClient) -> None:
    response = client.get("/conflict")

    assert response.status_code == 409
    assert response.json() == {"error": "email_taken", "detail": "That email is taken."}


def test_retry_after_header_is_sent(client: TestClient) -> None:
    response = client.get("/throttled")

    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"


def test_unexpected_error_is_500_without_internals(client: TestClient) -> None:
    response = client.get("/boom")

    assert response.status_code == 500
    assert_error_shape(response.json(), "internal_error")
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text


def test_body_over_one_mebibyte_is_413(client: TestClient) -> None:
    response = client.post(
        "/greetings", json={"name": "x" * (3 * 1024 * 1024), "age": 1}
    )

    assert response.status_code == 413
    assert_error_shape(response.json(), "payload_too_large")


def test_streamed_body_over_the_cap_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(3):
            yield b" " * (512 * 1024)

    response = client.post(
        "/greetings", content=chunks(), headers={"content-type": "application/json"}
    )

    assert response.status_code == 413
    assert_error_shape(response.json(), "payload_too_large")


def test_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/no/such/path", headers={"X-Request-ID": "abc-123"})

    assert response.headers["x-request-id"] == "abc-123"


def test_a_request_id_is_made_when_none_is_sent(client: TestClient) -> None:
    response = client.get("/no/such/path")

    assert len(response.headers["x-request-id"]) == 32


def test_cors_preflight_answers_configured_origins(client: TestClient) -> None:
    response = client.options(
        "/greetings",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "access-control-allow-credentials" not in response.headers


def test_cors_refuses_other_origins(client: TestClient) -> None:
    response = client.options(
        "/greetings",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
        },
    )

    assert "access-control-allow-origin" not in response.headers
