"""``GET /health``: is the database answering, and how is the queue run."""

from typing import Literal

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from shared import db
from shared.errors import AppError
from shared.logs import get_logger
from shared.schemas import Schema
from shared.settings import get_settings

log = get_logger(__name__)
router = APIRouter(tags=["health"])

PROBE_TIMEOUT_SECONDS = 3


class Health(Schema):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "down"]
    queue: Literal["ok", "inline", "down"]


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "Something is down"}},
)
async def health() -> JSONResponse:
    report = Health(status="ok", database=await _database(), queue=await _queue())
    if "down" in (report.database, report.queue):
        report.status = "degraded"
    return JSONResponse(report.model_dump(), 200 if report.status == "ok" else 503)


async def _database() -> Literal["ok", "down"]:
    try:
        with anyio.fail_after(PROBE_TIMEOUT_SECONDS):
            async with db.transaction() as conn:
                await conn.execute("SELECT 1")
    except (AppError, TimeoutError):
        return "down"
    return "ok"


async def _queue() -> Literal["ok", "inline", "down"]:
    settings = get_settings()
    if not settings.amqp_url:
        return "inline"
    from shared import broker  # pika is only loaded when a broker is configured

    reachable = await anyio.to_thread.run_sync(broker.ping, settings.amqp_url)
    return "ok" if reachable else "down"
