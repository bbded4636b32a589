"""HTTP routes of the users function."""

from fastapi import APIRouter

router = APIRouter(tags=["users"])
