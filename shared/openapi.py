"""The OpenAPI document of every function, completed with the answers that no
route declares because the framework or the shared middleware gives them:
an unreadable or oversized body, a dependency that is down, and validation
errors in the shape of API.md rather than FastAPI's own."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from shared.schemas import SCHEMA_REFS, ErrorBody, ValidationErrorBody, json_content

FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

BODY_ERRORS = {
    "400": "The body could not be read (not UTF-8, or not the declared type)",
    "413": "The request body is too large",
}
ANY_ROUTE_ERRORS = {"503": "A dependency is down; try again after Retry-After"}


def install(app: FastAPI) -> None:
    """Make ``app`` publish the completed document."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _add_error_schemas(schemas)
    for methods in document.get("paths", {}).values():
        for operation in methods.values():
            _complete_operation(operation)
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    return document


def _add_error_schemas(schemas: dict[str, Any]) -> None:
    for model in (ErrorBody, ValidationErrorBody):
        found = model.model_json_schema(ref_template=SCHEMA_REFS + "{model}")
        schemas.update(found.pop("$defs", {}))
        schemas.setdefault(model.__name__, found)


def _complete_operation(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    if "422" in responses:
        responses["422"]["content"] = json_content(ValidationErrorBody)
    if "requestBody" in operation:
        _declare(responses, BODY_ERRORS)
    _declare(responses, ANY_ROUTE_ERRORS)


def _declare(responses: dict[str, Any], errors: dict[str, str]) -> None:
    for status, description in errors.items():
        responses.setdefault(
            status, {"description": description, "content": json_content(ErrorBody)}
        )
