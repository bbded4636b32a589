"""Each function folder is a deployable unit with only its own routes."""

import importlib
import json

import pytest
from fastapi import FastAPI

from shared.local import function_names, function_router
from shared.settings import Settings
from tests.lambda_events import FakeLambdaContext, http_api_event

HTTP_FUNCTIONS = ["auth", "events", "purchase", "users"]


def route_keys(app: FastAPI) -> set[tuple[str, str]]:
    """Method and path of every documented operation."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def test_every_http_function_is_discovered() -> None:
    assert function_names() == HTTP_FUNCTIONS


@pytest.mark.parametrize("name", HTTP_FUNCTIONS)
def test_app_exposes_only_its_own_routes_and_health(
    name: str, settings: Settings
) -> None:
    app: FastAPI = importlib.import_module(f"functions.{name}.handler").app

    alone = FastAPI()
    alone.include_router(function_router(name))
    assert route_keys(app) == route_keys(alone) | {("GET", "/health")}


@pytest.mark.parametrize("name", HTTP_FUNCTIONS)
def test_handler_answers_an_http_api_event(name: str, settings: Settings) -> None:
    handler = importlib.import_module(f"functions.{name}.handler").handler

    response = handler(http_api_event("GET", "/health"), FakeLambdaContext())

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["database"] == "ok"
    assert response["headers"]["x-request-id"] == "lambda-request-0001"


@pytest.mark.parametrize("name", HTTP_FUNCTIONS)
def test_handler_answers_unknown_paths_in_the_error_shape(
    name: str, settings: Settings
) -> None:
    handler = importlib.import_module(f"functions.{name}.handler").handler

    response = handler(http_api_event("GET", "/nope"), FakeLambdaContext())

    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"] == "not_found"
