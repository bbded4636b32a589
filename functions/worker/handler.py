"""Lambda entry point of the worker: queue batches and scheduled jobs."""

from typing import Any


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    raise NotImplementedError("the worker's jobs are not built yet")
