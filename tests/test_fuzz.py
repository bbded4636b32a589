"""Property-based fuzzing of every operation in the app's own OpenAPI schema.

Hypothesis generates valid and invalid requests for each operation, sent over
real HTTP as an admin and as a customer. Whatever comes in, the service never
answers 5xx, every answer matches the documented schema, and every error has
the shape of API.md. `make test` runs a bounded number of cases per
operation; `make fuzz` runs many more.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from shared.settings import Settings
from tests.conftest import TestUser
from tests.live_server import live_server


@schemathesis.check
def error_has_the_api_shape(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case[Any]
) -> bool | None:
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict), "an error body must be a JSON object"
    assert isinstance(body.get("error"), str), "an error names its code in `error`"
    assert isinstance(body.get("detail"), str), "an error explains itself in `detail`"
    assert "Traceback" not in response.text
    return True


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    error_has_the_api_shape,
]


@pytest.fixture(scope="module")
def base_url(base_settings: Settings, local_app: FastAPI) -> Iterator[str]:
    with live_server(local_app) as url:
        yield url


@pytest.fixture
def callers(make_user: Callable[..., TestUser]) -> list[TestUser]:
    return [make_user("admin"), make_user("customer")]


@dataclass
class FuzzReport:
    cases: int = 0
    failures: list[str] = field(default_factory=list)


def fuzz_operation(
    operation: APIOperation[Any, Any, Any, Any],
    mode: GenerationMode,
    base_url: str,
    callers: list[TestUser],
    examples: int,
    report: FuzzReport,
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Case[Any]) -> None:
        for caller in callers:
            report.cases += 1
            case.call_and_validate(
                base_url=base_url, headers=caller.headers, checks=CHECKS
            )

    try:
        run()
    except Unsatisfiable:
        pass  # nothing in this operation can be made invalid (no inputs)
    # Schemathesis groups its findings in a BaseExceptionGroup, which
    # `except Exception` would let through and so stop at the first operation.
    except (Exception, FailureGroup) as exc:  # collect them all, then report
        report.failures.append(f"{operation.label} [{mode.value}]: {exc}")


def test_every_operation_survives_fuzzing(
    base_url: str,
    callers: list[TestUser],
    fuzz_examples: int,
    say: Callable[[str], None],
) -> None:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    report = FuzzReport()

    for result in schema.get_all_operations():
        for mode in GenerationMode:
            operation = result.ok()  # type: ignore[union-attr]
            fuzz_operation(operation, mode, base_url, callers, fuzz_examples, report)

    say(f"fuzz: {report.cases} cases, {len(report.failures)} failing operations")
    assert not report.failures, "\n\n".join(report.failures)
