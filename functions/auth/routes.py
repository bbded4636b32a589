"""HTTP routes of the auth function."""

from fastapi import APIRouter

router = APIRouter(tags=["auth"])
