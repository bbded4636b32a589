"""The one error type of the service, and its kinds.

Every error a client sees has the body ``{"error": code, "detail": message}``
(plus any extra fields a kind adds). Code raises these where it knows what
went wrong; ``shared.app`` renders them.
"""

from collections.abc import Mapping
from typing import Any, ClassVar


class AppError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    detail: ClassVar[str] = "The request could not be processed."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.detail_text = detail or self.detail
        self.error_code = code or self.code
        self.headers = dict(headers or {})
        self.extra = extra
        super().__init__(self.detail_text)

    def body(self) -> dict[str, Any]:
        return {"error": self.error_code, "detail": self.detail_text, **self.extra}


class BadRequest(AppError):
    pass


class Unauthorized(AppError):
    status_code = 401
    code = "not_authenticated"
    detail = "Authentication is required."

    def __init__(self, detail: str | None = None, **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.headers.setdefault("WWW-Authenticate", "Bearer")


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"
    detail = "You are not allowed to do this."


class NotFound(AppError):
    status_code = 404
    code = "not_found"
    detail = "Not found."


class Conflict(AppError):
    status_code = 409
    code = "conflict"
    detail = "The request conflicts with the current state."


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"
    detail = "The request body is too large."


class Unprocessable(AppError):
    status_code = 422
    code = "unprocessable"
    detail = "The request is well-formed but cannot be carried out."


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_requests"
    detail = "Too many requests; try again later."

    def __init__(
        self, detail: str | None = None, *, retry_after: int = 1, **kwargs: Any
    ) -> None:
        super().__init__(detail, **kwargs)
        self.headers["Retry-After"] = str(max(1, retry_after))


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"
    detail = "The service is temporarily unavailable; try again shortly."

    def __init__(
        self, detail: str | None = None, *, retry_after: int = 1, **kwargs: Any
    ) -> None:
        super().__init__(detail, **kwargs)
        self.headers["Retry-After"] = str(max(1, retry_after))


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"
    detail = "The database is unavailable; try again shortly."


class Busy(ServiceUnavailable):
    code = "busy"
    detail = "Too many people are buying right now; try again in a moment."
