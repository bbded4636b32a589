"""HTTP routes of the users function: the admin's users table."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from functions.users import service
from functions.users.schemas import UserCreate, UserQuery, UserUpdate
from shared.accounts import User
from shared.auth import AdminCaller
from shared.schemas import Page, error_responses

router = APIRouter(tags=["users"], responses=error_responses(401, 403))


@router.get("/users", responses=error_responses(422))
async def list_users(
    query: Annotated[UserQuery, Query()], caller: AdminCaller
) -> Page[User]:
    return await service.list_users(query)


@router.post("/users", status_code=201, responses=error_responses(409, 422))
async def create_user(body: UserCreate, caller: AdminCaller) -> User:
    return await service.create_user(body)


@router.get("/users/{user_id}", responses=error_responses(404, 422))
async def get_user(user_id: UUID, caller: AdminCaller) -> User:
    return await service.get_user(user_id)


@router.patch("/users/{user_id}", responses=error_responses(404, 409, 422))
async def update_user(user_id: UUID, body: UserUpdate, caller: AdminCaller) -> User:
    return await service.update_user(user_id, body)


@router.delete(
    "/users/{user_id}",
    status_code=204,
    response_class=Response,
    responses=error_responses(404, 409, 422),
)
async def delete_user(user_id: UUID, caller: AdminCaller) -> None:
    await service.delete_user(user_id)
