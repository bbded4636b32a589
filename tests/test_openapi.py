"""The published OpenAPI document tells clients every error they can get, in
the shape they will really get it."""

from typing import Any

from fastapi import FastAPI

VALIDATION_BODY = {"$ref": "#/components/schemas/ValidationErrorBody"}
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def every_operation(app: FastAPI) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in app.openapi()["paths"].items()
        for method, operation in methods.items()
    ]


def schema_of(operation: dict[str, Any], status: str) -> Any:
    return operation["responses"][status]["content"]["application/json"]["schema"]


def test_fastapi_validation_schemas_are_not_published(local_app: FastAPI) -> None:
    document = local_app.openapi()

    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "HTTPValidationError" not in str(document)


def test_every_operation_with_inputs_documents_the_validation_error(
    local_app: FastAPI,
) -> None:
    for label, operation in every_operation(local_app):
        if not operation.get("parameters") and "requestBody" not in operation:
            continue
        assert schema_of(operation, "422") == VALIDATION_BODY, label


def test_every_operation_with_a_body_documents_unreadable_and_oversized_bodies(
    local_app: FastAPI,
) -> None:
    for label, operation in every_operation(local_app):
        if "requestBody" not in operation:
            continue
        assert schema_of(operation, "400") == ERROR_BODY, label
        assert schema_of(operation, "413") == ERROR_BODY, label


def test_every_operation_documents_a_dependency_being_down(
    local_app: FastAPI,
) -> None:
    for label, operation in every_operation(local_app):
        assert "503" in operation["responses"], label
