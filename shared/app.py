"""The one app factory: every function's FastAPI app is built here, so they
all answer errors, health checks, CORS and request ids the same way."""

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware

from shared import openapi
from shared.errors import AppError
from shared.health import router as health_router
from shared.logs import configure_logging
from shared.middleware import RequestContextMiddleware
from shared.settings import get_settings

_HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def create_app(title: str, routers: Sequence[APIRouter] = ()) -> FastAPI:
    settings = get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title=f"EventScale {title}",
        version="1.0.0",
        description="Ticket selling for EventScale. Errors always have the shape "
        '`{"error": code, "detail": message}`.',
    )
    app.include_router(health_router)
    for router in routers:
        app.include_router(router)
    install_error_handlers(app)
    openapi.install(app)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=False,
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "X-Request-ID",
        ],
        expose_headers=["X-Request-ID", "Retry-After"],
    )
    return app


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


def error_response(error: AppError) -> JSONResponse:
    return JSONResponse(error.body(), error.status_code, headers=error.headers)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
        for error in exc.errors()
    ]
    body = {
        "error": "validation_error",
        "detail": "The request is not valid; see fields.",
        "fields": fields,
    }
    return JSONResponse(body, 422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_ERROR_CODES.get(exc.status_code, "http_error")
    body = {"error": code, "detail": _http_detail(exc)}
    return JSONResponse(body, exc.status_code, headers=exc.headers)


def _http_detail(exc: StarletteHTTPException) -> str:
    if exc.status_code == 404:
        return "No such resource."
    if exc.status_code == 405:
        return "This method is not allowed on this path."
    return str(exc.detail)
