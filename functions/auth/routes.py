"""HTTP routes of the auth function."""

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from functions.auth import service
from functions.auth.schemas import (
    LoginRequest,
    MeUpdate,
    RefreshRequest,
    RegisterRequest,
    TokenForm,
    TokenPair,
)
from shared.accounts import User
from shared.auth import CurrentCaller
from shared.schemas import error_responses

router = APIRouter(tags=["auth"])

LOGIN_ERRORS = error_responses(401, 403, 422, 429)


def client_address(request: Request) -> str:
    """The peer as the server saw it: the socket locally, API Gateway's
    sourceIp in Lambda. X-Forwarded-For is ignored, as anyone can send it."""
    return request.client.host if request.client else "unknown"


@router.post("/auth/register", status_code=201, responses=error_responses(409, 422))
async def register(body: RegisterRequest) -> User:
    return await service.register(body)


@router.post("/auth/login", responses=LOGIN_ERRORS)
async def login(body: LoginRequest, request: Request) -> TokenPair:
    return await service.login(body.email, body.password, client_address(request))


@router.post("/auth/token", responses=LOGIN_ERRORS)
async def token(form: Annotated[TokenForm, Form()], request: Request) -> TokenPair:
    """The OAuth2 password flow, for the Authorize button of the docs."""
    return await service.login(form.username, form.password, client_address(request))


@router.post("/auth/refresh", responses=error_responses(401, 422))
async def refresh(body: RefreshRequest) -> TokenPair:
    return await service.refresh(body.refresh_token)


@router.post(
    "/auth/logout",
    status_code=204,
    response_class=Response,
    responses=error_responses(422),
)
async def logout(body: RefreshRequest) -> None:
    await service.logout(body.refresh_token)


@router.get("/auth/me", responses=error_responses(401))
async def me(caller: CurrentCaller) -> User:
    return await service.me(caller.id)


@router.patch("/auth/me", responses=error_responses(401, 403, 422))
async def update_me(body: MeUpdate, caller: CurrentCaller) -> User:
    return await service.update_me(caller.id, body)
