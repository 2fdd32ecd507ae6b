"""Who the bearer token belongs to: lets a machine client check its token and role."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.models import Role
from app.web.auth import StaffUser

router = APIRouter(tags=["accounts"])


class Me(BaseModel):
    """The account behind the token."""

    username: str
    full_name: str
    role: Role


@router.get("/me")
def me(user: StaffUser) -> Me:
    """The service account this token was issued to, with its role."""
    return Me(username=user.username, full_name=user.full_name, role=user.role)
