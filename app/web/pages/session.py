"""Signing in and out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.users.sessions import end_session, start_session
from app.users.signin import SignInRefusedError, ThrottlePolicy, authenticate
from app.web.auth import (
    SIGN_IN_PATH,
    CsrfProtected,
    CurrentUser,
    OptionalPrincipal,
    anonymous_cookie_name,
    client_address,
    safe_next,
    session_cookie_name,
)
from app.web.deps import SessionDep, SettingsDep
from app.web.pages.rendering import render

router = APIRouter()


@router.get(SIGN_IN_PATH)
def sign_in_form(request: Request, principal: OptionalPrincipal, next: str = "/") -> Response:
    """The sign-in form (a signed-in user goes straight on)."""
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "sign_in.html", {"next": safe_next(next), "errors": {}}, user=None)


@router.post(SIGN_IN_PATH)
def sign_in(
    request: Request,
    _csrf: CsrfProtected,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password and start a new session (never reuse one the browser brought)."""
    errors: dict[str, str] = {}
    if not username.strip():
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"  # noqa: S105 - a message
    if errors:
        context = {"next": safe_next(next), "errors": errors, "username": username}
        return render(request, "sign_in.html", context, user=None)
    policy = ThrottlePolicy(
        max_failures=settings.login_max_failures,
        max_failures_per_address=settings.login_max_failures_per_address,
        lock=dt.timedelta(minutes=settings.login_lock_minutes),
    )
    address = client_address(request)
    try:
        user = authenticate(
            session, username=username, password=password, client_address=address, policy=policy
        )
    except SignInRefusedError as refused:
        context = {
            "next": safe_next(next),
            "errors": {"username": str(refused)},
            "username": username,
        }
        # The attempt and its audit event commit with this response (it is not an error).
        status = 429 if refused.locked else 200
        return render(request, "sign_in.html", context, user=None, status_code=status)
    old = request.cookies.get(session_cookie_name(settings))
    if old:
        end_session(session, token=old, actor=user)
    new = start_session(session, user=user, client_address=address)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        session_cookie_name(settings),
        new.token,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )
    response.delete_cookie(
        anonymous_cookie_name(settings), path="/", secure=settings.secure_cookies, httponly=True
    )
    return response


@router.post("/sign-out")
def sign_out(
    request: Request,
    user: CurrentUser,
    _csrf: CsrfProtected,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """End this browser's session."""
    token = request.cookies.get(session_cookie_name(settings), "")
    end_session(session, token=token, actor=user)
    response = RedirectResponse(SIGN_IN_PATH, status_code=303)
    response.delete_cookie(
        session_cookie_name(settings), path="/", secure=settings.secure_cookies, httponly=True
    )
    return response
