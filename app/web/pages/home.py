"""The home page: where each role can go from here."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.web.auth import StaffUser
from app.web.pages.rendering import render

router = APIRouter()


@router.get("/")
def home(request: Request, user: StaffUser) -> HTMLResponse:
    """Links to the areas this user's role may use."""
    return render(request, "home.html", {}, user=user)
