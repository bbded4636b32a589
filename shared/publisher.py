"""Hands a request's outbox rows to the broker once its transaction commits."""

from uuid import UUID

from shared.logs import get_logger
from shared.settings import get_settings

log = get_logger(__name__)


async def publish_after_commit(ids: list[UUID]) -> None:
    if not get_settings().amqp_url:
        # Without a broker the in-process worker reads the outbox itself.
        return
    # Until the broker client lands, the worker's relay publishes these rows.
    log.info("outbox.publish_deferred", extra={"count": len(ids)})
