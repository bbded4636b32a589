"""serverless.yml sends every route to the one function that serves it.

API Gateway matches method and path exactly, so a route missing here answers
the gateway's 404 in production although every local test passes, and a
route listed under the wrong function reaches an app that does not know it.
"""

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI

from shared.local import function_names
from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
API_MD = ROOT.parent / "shared" / "API.md"
HEALTH = ("GET", "/health")

Route = tuple[str, str]


def normalised(method: str, path: str) -> Route:
    """Path parameters match whatever their names: /users/{id} = /users/{x}."""
    return method.upper(), re.sub(r"\{[^}]*\}", "{}", path)


def serverless_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((ROOT / "serverless.yml").read_text())
    return config


def gateway_routes() -> dict[Route, list[str]]:
    """Each httpApi route of serverless.yml and the functions it points at."""
    routes: dict[Route, list[str]] = {}
    for name, function in serverless_config()["functions"].items():
        for event in function.get("events", []):
            route = event.get("httpApi") if isinstance(event, dict) else None
            if isinstance(route, str) and route != "*":
                routes.setdefault(normalised(*route.split(" ", 1)), []).append(name)
    return routes


def served_routes(name: str) -> set[Route]:
    app: FastAPI = importlib.import_module(f"functions.{name}.handler").app
    return {
        normalised(method, path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


@pytest.fixture
def served(settings: Settings) -> dict[str, set[Route]]:
    routes = {name: served_routes(name) for name in function_names()}
    if all(found == {normalised(*HEALTH)} for found in routes.values()):
        pytest.skip("no function serves routes yet: runs once the routes are merged")
    return routes


def test_every_served_route_reaches_exactly_its_own_function(
    served: dict[str, set[Route]],
) -> None:
    gateway = gateway_routes()
    wrong = {
        route: gateway.get(route, [])
        for name, routes in served.items()
        for route in routes - {normalised(*HEALTH)}
        if gateway.get(route) != [name]
    }

    assert wrong == {}


def test_no_gateway_route_points_at_a_function_that_does_not_serve_it(
    served: dict[str, set[Route]],
) -> None:
    stray = {
        route: names
        for route, names in gateway_routes().items()
        if any(route not in served[name] for name in names)
    }

    assert stray == {}


def test_health_is_routed_to_one_function() -> None:
    assert len(gateway_routes()[normalised(*HEALTH)]) == 1


def api_md_routes() -> dict[Route, str | None]:
    """Every route in API.md's tables and the function its section names."""
    if not API_MD.exists():
        pytest.skip(f"{API_MD} is not beside the checkout")
    routes: dict[Route, str | None] = {}
    function = None
    for line in API_MD.read_text().splitlines():
        if line.startswith("## "):
            found = re.search(r"`functions/(\w+)`", line)
            function = found.group(1) if found else None
        row = re.match(r"\|\s*(GET|POST|PATCH|PUT|DELETE)\s*\|\s*`([^`]+)`", line)
        if row:
            routes[normalised(row.group(1), row.group(2))] = function
    return routes


def test_every_route_of_the_contract_is_routed_to_the_function_it_belongs_to() -> None:
    gateway = gateway_routes()
    expected = {
        route: [function] for route, function in api_md_routes().items() if function
    }

    assert {route: gateway.get(route) for route in expected} == expected


def test_the_gateway_has_no_route_the_contract_does_not_list() -> None:
    assert set(gateway_routes()) == set(api_md_routes())
