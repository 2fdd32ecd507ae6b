"""Admins look after people's access: roles given locally, and lost second factors reset."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.errors import DomainError
from app.models import Role, User
from app.users.service import assign_role, get_user_by_id, list_users
from app.users.totp import reset_second_factor
from app.web.auth import AdminUser, CsrfProtected
from app.web.deps import SessionDep
from app.web.ids import RowId
from app.web.pages.rendering import render

router = APIRouter()

ROLE_CHOICES = [(role.value, role.value.capitalize()) for role in Role] + [("none", "No access")]


def _rows(users: list[User], viewer: User) -> list[dict[str, object]]:
    return [
        {
            "id": user.id,
            "username": user.username,
            "full_name": user.full_name,
            "role": user.role.value if user.role else "none",
            "role_from_claims": user.role_from_claims,
            "signs_in_with": "identity provider" if user.oidc_subject else "local account",
            "second_factor": user.totp_secret is not None,
            "active": user.is_active,
            "is_self": user.id == viewer.id,
        }
        for user in users
        if not user.is_service_account
    ]


@router.get("/users")
def users_page(
    request: Request, user: AdminUser, session: SessionDep, changed: str = ""
) -> Response:
    """Everyone who signs in, their role and where it came from, and their second factor."""
    context = {
        "rows": _rows(list_users(session), user),
        "roles": ROLE_CHOICES,
        "changed": changed[:100],
        "error": None,
    }
    return render(request, "users/list.html", context, user=user)


@router.post("/users/{user_id}/role")
def change_role(
    request: Request,
    user_id: RowId,
    user: AdminUser,
    _csrf: CsrfProtected,
    session: SessionDep,
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Give someone a role here (the provider's mapped claims overrule it at sign-in)."""
    person = get_user_by_id(session, user_id=user_id)
    if role not in {*(member.value for member in Role), "none"}:
        return _with_error(request, session, user, "Choose a role.")
    try:
        assign_role(session, user=person, role=None if role == "none" else Role(role), actor=user)
    except DomainError as error:
        return _with_error(request, session, user, str(error))
    return RedirectResponse(f"/users?changed={person.username}", status_code=303)


@router.post("/users/{user_id}/second-factor/reset")
def reset_totp(
    request: Request,
    user_id: RowId,
    user: AdminUser,
    _csrf: CsrfProtected,
    session: SessionDep,
) -> Response:
    """Remove someone's lost authenticator (never one's own); they enrol again."""
    person = get_user_by_id(session, user_id=user_id)
    try:
        reset_second_factor(session, user=person, actor=user)
    except DomainError as error:
        return _with_error(request, session, user, str(error))
    return RedirectResponse(f"/users?changed={person.username}", status_code=303)


def _with_error(request: Request, session: SessionDep, user: User, message: str) -> Response:
    context = {
        "rows": _rows(list_users(session), user),
        "roles": ROLE_CHOICES,
        "changed": "",
        "error": message,
    }
    return render(request, "users/list.html", context, user=user, status_code=400)
