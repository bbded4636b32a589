"""HTTP routes of the events function."""

from fastapi import APIRouter

router = APIRouter(tags=["events"])
