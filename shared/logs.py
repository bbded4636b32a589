"""Structured JSON logs, each line carrying the request id it belongs to.

Log calls name a stable event and pass fields through ``extra``::

    log.info("order.confirmed", extra={"order_id": str(order_id)})
"""

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_configured = False


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(level: str = "INFO") -> None:
    """Send JSON lines to stderr; safe to call more than once."""
    global _configured
    root = logging.getLogger()
    root.setLevel(level)
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"levelname": "level", "asctime": "time", "message": "event"},
        )
    )
    # Lambda installs its own handler on the root logger; one is enough.
    root.handlers = [handler]
    # pika narrates every frame at INFO; its warnings are what matter.
    logging.getLogger("pika").setLevel(logging.WARNING)
    _configured = True


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
