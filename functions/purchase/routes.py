"""HTTP routes of the purchase function."""

from fastapi import APIRouter

router = APIRouter(tags=["purchase"])
