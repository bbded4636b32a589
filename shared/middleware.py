"""The ASGI layer every function shares: request ids, the body cap, a last
safety net for unexpected errors, and the outbox hand-off after a request."""

import json
import logging
import os
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import outbox
from shared.errors import AppError, PayloadTooLarge
from shared.logs import get_logger, request_id_var

log = get_logger(__name__)

REQUEST_ID_HEADER = b"x-request-id"
_ACCEPTABLE_REQUEST_ID = re.compile(r"^[\w.:-]{1,128}$")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        pending = outbox.start_request(request_id)
        exchange = _Exchange(send, request_id, self.max_body_bytes)
        started_at = time.perf_counter()
        try:
            if _declared_length(scope) > self.max_body_bytes:
                await exchange.fail(PayloadTooLarge())
            else:
                await self.app(scope, exchange.wrap_receive(receive), exchange.send)
        except Exception:
            log.exception("request.unhandled_error", extra={"path": scope["path"]})
            if not exchange.started:
                await exchange.fail(_InternalError())
        finally:
            _log_request(scope, exchange.status, started_at)
            request_id_var.reset(token)
        await outbox.after_request(pending)


class _Exchange:
    """One request's response channel: adds the request id, and swaps in a
    413 when the body outgrows the cap (frameworks would call that a 400)."""

    def __init__(self, send: Send, request_id: str, max_body_bytes: int) -> None:
        self._send = send
        self._request_id = request_id.encode()
        self._max_body_bytes = max_body_bytes
        self._received = 0
        self.too_large = False
        self.started = False
        self.status = 0

    def wrap_receive(self, receive: Receive) -> Receive:
        async def capped() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self._received += len(message.get("body", b""))
                if self._received > self._max_body_bytes:
                    self.too_large = True
                    raise PayloadTooLarge()
            return message

        return capped

    async def send(self, message: Message) -> None:
        if self.too_large and not self.started:
            await self.fail(PayloadTooLarge())
        if self.too_large:
            return
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            headers = [
                *message.get("headers", []),
                (REQUEST_ID_HEADER, self._request_id),
            ]
            message = {**message, "headers": headers}
        await self._send(message)

    async def fail(self, error: AppError) -> None:
        self.started = True
        self.status = error.status_code
        body = json.dumps(error.body()).encode()
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (REQUEST_ID_HEADER, self._request_id),
        ]
        headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
        start: dict[str, Any] = {
            "type": "http.response.start",
            "status": error.status_code,
            "headers": headers,
        }
        await self._send(start)
        await self._send({"type": "http.response.body", "body": body})


def _log_request(scope: Scope, status: int, started_at: float) -> None:
    if not log.isEnabledFor(logging.INFO):
        return
    log.info(
        "request.completed",
        extra={
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round((time.perf_counter() - started_at) * 1000, 2),
        },
    )


class _InternalError(AppError):
    status_code = 500
    code = "internal_error"
    detail = "Something went wrong on our side; it has been logged."


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            candidate: str = value.decode("latin-1")
            if _ACCEPTABLE_REQUEST_ID.match(candidate):
                return candidate
    lambda_context = scope.get("aws.context")
    lambda_id: object = getattr(lambda_context, "aws_request_id", None)
    if isinstance(lambda_id, str) and lambda_id:
        return lambda_id
    return os.urandom(16).hex()  # as random as uuid4().hex, a sixth of the cost


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0
