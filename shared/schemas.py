"""Request and response models more than one function declares."""

import re
import warnings
from collections.abc import Mapping
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator
from pydantic.warnings import UnsupportedFieldAttributeWarning

Item = TypeVar("Item")
SCHEMA_REFS = "#/components/schemas/"

_STANDARD_DESCRIPTIONS = {
    400: "The request could not be processed",
    401: "Missing, expired or invalid bearer token",
    403: "The caller's role does not allow this",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "The request body is too large",
    422: "The request is not valid",
    429: "Too many attempts; see Retry-After",
    503: "Temporarily unavailable; see Retry-After",
}


# PostgreSQL cannot store NUL, UTF-8 cannot encode a lone surrogate, and no
# name, label or search of ours has a reason to carry other control characters.
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def refuse_control_characters(value: str) -> str:
    if _UNSAFE_CHARACTERS.search(value):
        raise ValueError("contains control characters or invalid unicode")
    return value


def _refuse_in(value: object) -> object:
    if isinstance(value, str):
        return refuse_control_characters(value)
    if isinstance(value, list | tuple | set):
        for item in value:
            _refuse_in(item)
    return value


SafeText = Annotated[str, AfterValidator(refuse_control_characters)]


class Schema(BaseModel):
    """What every model of ours is built on. Validators and serializers are
    built the first time a model is used rather than at import, so a cold
    start pays only for the models of the requests it serves."""

    model_config = ConfigDict(defer_build=True)


# FastAPI wraps a body or query model in its parameter's settings (an alias)
# and silences pydantic's warning that the alias means nothing to a model while
# it builds the parameter. A deferred model is built later, at its first
# request, out of FastAPI's reach, so the same warning is silenced here.
warnings.filterwarnings(
    "ignore",
    message="The 'alias' attribute with value",
    category=UnsupportedFieldAttributeWarning,
)


class RequestModel(Schema):
    """What every request body (and query model) is built on: fields it does
    not declare are refused rather than silently dropped, and so are strings
    the database could not store."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: object) -> object:
        return _refuse_in(value)


class ErrorBody(Schema):
    error: str
    detail: str


class FieldError(Schema):
    field: str
    message: str


class ValidationErrorBody(ErrorBody):
    fields: list[FieldError]


class Page(Schema, Generic[Item]):
    items: list[Item]
    total: int
    page: int
    page_size: int


def error_responses(*specs: int | Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the errors a route answers: bare statuses, or
    statuses mapped to the error codes they carry
    (``error_responses(401, {404: "event_not_found"})``)."""
    described: dict[int, str] = {}
    for spec in specs:
        if isinstance(spec, Mapping):
            described.update(spec)
        else:
            described.setdefault(spec, _STANDARD_DESCRIPTIONS.get(spec, "Error"))
    # A reference rather than FastAPI's "model": FastAPI would build a
    # validator for each status of each route, only to document it.
    return {
        status: {"description": description, "content": json_content(_body_of(status))}
        for status, description in described.items()
    }


def _body_of(status: int) -> type[ErrorBody]:
    return ValidationErrorBody if status == 422 else ErrorBody


def json_content(model: type[BaseModel]) -> dict[str, Any]:
    """An OpenAPI ``content`` of ``model``, whose schema shared/openapi.py
    publishes under components."""
    return {"application/json": {"schema": {"$ref": SCHEMA_REFS + model.__name__}}}
