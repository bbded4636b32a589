"""Lambda entry point of the worker: Amazon MQ batches and scheduled jobs.

Lambda retries a whole batch when the function raises, so a message that
fails is routed to its retry or dead-letter queue here and the batch returns
normally; only a failure to route it raises, and then the messages already
handled are duplicates that ``processed_messages`` turns into no-ops.
"""

from collections import Counter
from typing import Any

from shared.coldstart import container_init

with container_init():
    from functions.worker import delivery, jobs
    from functions.worker.service import Result
    from shared import broker, publisher
    from shared.logs import configure_logging, get_logger
    from shared.settings import get_settings

    log = get_logger(__name__)


class UnknownEvent(ValueError):
    """Neither a queue batch nor a scheduled job."""


def handler(event: dict[str, Any], context: jobs.LambdaContext) -> dict[str, Any]:
    configure_logging(get_settings().log_level)
    if "job" in event:
        return run_job(str(event["job"]), context)
    if event.get("eventSource") == "aws:rmq":
        return handle_batch(event)
    raise UnknownEvent("expected an aws:rmq batch or a {'job': name} schedule input")


def run_job(name: str, context: jobs.LambdaContext) -> dict[str, Any]:
    job = jobs.JOBS.get(name)
    if job is None:
        raise UnknownEvent(f"unknown job {name!r}; known: {sorted(jobs.JOBS)}")
    summary = job(context)
    log.info("job.done", extra={"job": name, **summary})
    return {"job": name, **summary}


def handle_batch(event: dict[str, Any]) -> dict[str, Any]:
    settings = get_settings()
    counts: Counter[str] = Counter()
    for records in (event.get("rmqMessagesByQueue") or {}).values():
        for record in records:
            envelope = delivery.from_rmq_record(record)
            result = delivery.handle(envelope)
            if result.error is not None:
                _route_onwards(envelope, result, settings.worker_max_attempts)
            counts[result.outcome.value] += 1
    return dict(counts)


def _route_onwards(
    envelope: broker.Envelope, result: Result, max_attempts: int
) -> None:
    shared = publisher.shared_channel()
    with shared.lock:
        try:
            channel = shared.channel()
            delivery.settle(channel, shared.topology, max_attempts, envelope, result)
        except broker.BrokerError:
            shared.close()
            raise
