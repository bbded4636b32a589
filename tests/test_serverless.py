"""The HTTP functions as Lambda runs them: API Gateway HTTP API (payload 2.0)
events through each handler, and what a cold start imports."""

import base64
import importlib
import json
from collections.abc import Callable
from typing import Annotated, Any

import psycopg
import pytest
from fastapi import APIRouter, Header
from mangum import Mangum
from pydantic import BaseModel, Field

from shared import db
from shared import settings as settings_module
from shared.app import create_app
from shared.auth import CurrentCaller
from shared.settings import Settings
from tests.conftest import TestUser
from tests.fresh_process import run_fresh
from tests.lambda_events import FakeLambdaContext, http_api_event

HTTP_FUNCTIONS = ["auth", "events", "purchase", "users"]
# Libraries that only some requests need: a handler must import them on first
# use, never at start-up (see README, "Deploying"). email_validator is not
# listed: FastAPI itself imports it whenever it is installed.
LAZY_LIBRARIES = ["jwt", "cryptography", "passlib", "argon2", "boto3", "pika"]

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def body_of(response: dict[str, Any]) -> Any:
    raw = response["body"]
    if response.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    return json.loads(raw)


@pytest.mark.parametrize("name", [*HTTP_FUNCTIONS, "worker"])
def test_a_cold_start_leaves_what_only_some_requests_need_unimported(
    name: str,
) -> None:
    # The worker consumes from the broker on every run: pika is its floor.
    lazy = [m for m in LAZY_LIBRARIES if not (name == "worker" and m == "pika")]
    code = (
        f"import sys, functions.{name}.handler;"
        f"print([m for m in {lazy!r} if m in sys.modules])"
    )
    env = {
        "ENVIRONMENT": "production",
        "DATABASE_URL": "postgresql://cold@127.0.0.1:1/cold",
        "JWT_SECRET": "c" * 40,
    }

    assert run_fresh(code, env) == "[]"


def test_the_pool_outlives_invocations_and_replaces_connections_lost_while_frozen(
    settings: Settings, database_url: str
) -> None:
    settings_module.configure(
        settings.model_copy(update={"database_check_after_idle": 0})
    )
    handler = importlib.import_module("functions.auth.handler").handler
    handler(http_api_event("GET", "/health"), FakeLambdaContext())
    pool = db._async_pool

    # What a long freeze does: the server (or a pooler) drops idle connections.
    with psycopg.connect(database_url, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    thawed = handler(http_api_event("GET", "/health"), FakeLambdaContext())

    assert killed is not None and killed[0] >= 1
    assert thawed["statusCode"] == 200
    assert body_of(thawed)["database"] == "ok"
    assert db._async_pool is pool


# A stand-in for any function's routes, wrapped exactly as handler.py wraps
# an app: what a route of each kind answers through API Gateway and Mangum.
class Greeting(BaseModel):
    name: str = Field(min_length=1)
    times: int = Field(ge=1, le=3)


probe = APIRouter()


@probe.get("/probe/me")
async def whoami(caller: CurrentCaller) -> dict[str, str]:
    return {"id": str(caller.id), "role": caller.role}


@probe.post("/probe/greetings", status_code=201)
async def greet(
    greeting: Greeting, idempotency_key: Annotated[str | None, Header()] = None
) -> dict[str, Any]:
    return {
        "text": " ".join([f"hello {greeting.name}"] * greeting.times),
        "key": idempotency_key,
    }


@pytest.fixture
def probe_handler(settings: Settings) -> Handler:
    app = create_app("probe", [probe])
    handler: Handler = Mangum(
        app, lifespan="off", api_gateway_base_path=settings.api_gateway_base_path
    )
    return handler


def test_a_protected_route_without_a_token_answers_401_asking_for_bearer(
    probe_handler: Handler,
) -> None:
    response = probe_handler(http_api_event("GET", "/probe/me"), FakeLambdaContext())

    assert response["statusCode"] == 401
    assert response["headers"]["www-authenticate"] == "Bearer"
    assert body_of(response)["error"] == "not_authenticated"


def test_a_protected_route_with_a_token_knows_the_caller(
    probe_handler: Handler, customer: TestUser
) -> None:
    event = http_api_event("GET", "/probe/me", headers=customer.headers)

    response = probe_handler(event, FakeLambdaContext())

    assert response["statusCode"] == 200
    assert body_of(response) == {"id": str(customer.id), "role": "customer"}


def test_a_body_that_fails_validation_answers_422_naming_the_fields(
    probe_handler: Handler,
) -> None:
    event = http_api_event("POST", "/probe/greetings", body={"name": "", "times": 9})

    response = probe_handler(event, FakeLambdaContext())

    assert response["statusCode"] == 422
    body = body_of(response)
    assert body["error"] == "validation_error"
    assert {f["field"] for f in body["fields"]} == {"body.name", "body.times"}


def test_a_base64_body_and_headers_from_the_gateway_reach_the_route(
    probe_handler: Handler,
) -> None:
    event = http_api_event(
        "POST",
        "/probe/greetings",
        body={"name": "Ada", "times": 2},
        headers={"Idempotency-Key": "k-1"},
    )

    response = probe_handler(event, FakeLambdaContext())

    assert response["statusCode"] == 201
    assert body_of(response) == {"text": "hello Ada hello Ada", "key": "k-1"}


def test_a_custom_domain_base_path_is_stripped_before_routing(
    settings: Settings,
) -> None:
    handler = Mangum(
        create_app("probe", [probe]), lifespan="off", api_gateway_base_path="/v1"
    )

    response = handler(
        http_api_event("POST", "/v1/probe/greetings", body={"name": "Bo", "times": 1}),
        FakeLambdaContext(),  # type: ignore[arg-type]
    )

    assert response["statusCode"] == 201


# The documented routes through the real handlers. They run once the routes
# are merged into this branch; until then the function serves /health alone.
def real_handler(name: str, method: str, path: str) -> Handler:
    module = importlib.import_module(f"functions.{name}.handler")
    if path not in module.app.openapi()["paths"]:
        pytest.skip(f"{method} {path} is not merged into functions/{name} yet")
    handler: Handler = module.handler
    return handler


def test_the_public_event_list_answers_a_page_to_anyone(settings: Settings) -> None:
    handler = real_handler("events", "GET", "/events")

    response = handler(
        http_api_event("GET", "/events", query="page=1"), FakeLambdaContext()
    )

    assert response["statusCode"] == 200
    assert {"items", "total", "page", "page_size"} <= set(body_of(response))


def test_me_without_a_token_is_401_and_with_one_is_the_caller(
    settings: Settings, customer: TestUser
) -> None:
    handler = real_handler("auth", "GET", "/auth/me")

    anonymous = handler(http_api_event("GET", "/auth/me"), FakeLambdaContext())
    known = handler(
        http_api_event("GET", "/auth/me", headers=customer.headers), FakeLambdaContext()
    )

    assert anonymous["statusCode"] == 401
    assert anonymous["headers"]["www-authenticate"] == "Bearer"
    assert known["statusCode"] == 200
    assert body_of(known)["email"] == customer.email


def test_registering_with_a_bad_email_is_422_naming_the_field(
    settings: Settings,
) -> None:
    handler = real_handler("auth", "POST", "/auth/register")
    body = {"email": "not-an-email", "password": "long enough pw", "full_name": "X"}

    response = handler(
        http_api_event("POST", "/auth/register", body=body), FakeLambdaContext()
    )

    assert response["statusCode"] == 422
    assert "body.email" in {f["field"] for f in body_of(response)["fields"]}


def test_the_users_table_is_for_admins_only(
    settings: Settings, customer: TestUser, admin: TestUser
) -> None:
    handler = real_handler("users", "GET", "/users")

    refused = handler(
        http_api_event("GET", "/users", headers=customer.headers), FakeLambdaContext()
    )
    listed = handler(
        http_api_event("GET", "/users", headers=admin.headers), FakeLambdaContext()
    )

    assert refused["statusCode"] == 403
    assert listed["statusCode"] == 200
    assert body_of(listed)["total"] >= 2


def test_a_customer_sees_their_own_empty_order_list(
    settings: Settings, customer: TestUser
) -> None:
    handler = real_handler("purchase", "GET", "/orders")

    response = handler(
        http_api_event("GET", "/orders", headers=customer.headers), FakeLambdaContext()
    )

    assert response["statusCode"] == 200
    assert body_of(response)["items"] == []
