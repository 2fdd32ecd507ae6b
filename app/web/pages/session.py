"""Signing in (a local password, then a TOTP code where one is needed) and signing out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app import audit
from app.config import Settings
from app.models import User
from app.users.oidc import OidcClient, ProviderConfig
from app.users.sessions import end_session, start_session
from app.users.signin import SignInRefusedError, ThrottlePolicy, authenticate, check_code
from app.users.totp import second_factor_required
from app.web.auth import (
    SIGN_IN_CODE_PATH,
    SIGN_IN_PATH,
    CsrfProtected,
    CurrentUser,
    OptionalPrincipal,
    anonymous_cookie_name,
    client_address,
    cookie_name,
    read_signed_cookie,
    safe_next,
    session_cookie_name,
    signed_cookie_value,
)
from app.web.deps import SessionDep, SettingsDep
from app.web.pages.rendering import render

router = APIRouter()

# The password step's proof lasts long enough to open an authenticator app, no longer.
SECOND_FACTOR_SECONDS = 300
SECOND_FACTOR_PURPOSE = "sign-in-second-factor"


def throttle_policy(settings: Settings) -> ThrottlePolicy:
    """The sign-in throttle as the settings give it (passwords and codes alike)."""
    return ThrottlePolicy(
        max_failures=settings.login_max_failures,
        max_failures_per_address=settings.login_max_failures_per_address,
        lock=dt.timedelta(minutes=settings.login_lock_minutes),
    )


def sign_in_context(settings: Settings, **values: object) -> dict[str, object]:
    """What the sign-in page shows: the provider's button, the break-glass form, or both."""
    return {
        "oidc_enabled": settings.oidc_enabled,
        "provider_name": settings.oidc_provider_name,
        "password_sign_in": settings.password_sign_in,
        "errors": {},
        **values,
    }


@router.get(SIGN_IN_PATH)
def sign_in_form(
    request: Request, principal: OptionalPrincipal, settings: SettingsDep, next: str = "/"
) -> Response:
    """The sign-in page (a signed-in user goes straight on)."""
    if principal is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(
        request, "sign_in.html", sign_in_context(settings, next=safe_next(next)), user=None
    )


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
    """Check the password, then ask for a code or start a new session."""
    target = safe_next(next)
    if not settings.password_sign_in:
        context = sign_in_context(settings, next=target)
        return render(request, "sign_in.html", context, user=None, status_code=403)
    errors: dict[str, str] = {}
    if not username.strip():
        errors["username"] = "Enter your username"
    if not password:
        errors["password"] = "Enter your password"  # noqa: S105 - a message
    if errors:
        context = sign_in_context(settings, next=target, errors=errors, username=username)
        return render(request, "sign_in.html", context, user=None)
    address = client_address(request)
    try:
        user = authenticate(
            session,
            username=username,
            password=password,
            client_address=address,
            policy=throttle_policy(settings),
            totp_required_for_admins=settings.admins_need_totp,
        )
    except SignInRefusedError as refused:
        context = sign_in_context(
            settings, next=target, errors={"username": str(refused)}, username=username
        )
        # The attempt and its audit event commit with this response (it is not an error).
        status = 429 if refused.locked else 200
        return render(request, "sign_in.html", context, user=None, status_code=status)
    required = settings.admins_need_totp
    if second_factor_required(user, required_for_admins=required):
        if user.totp_secret is None:
            return _second_factor_missing(request, session, user=user, address=address)
        response = RedirectResponse(SIGN_IN_CODE_PATH, status_code=303)
        proof = signed_cookie_value(
            settings, purpose=SECOND_FACTOR_PURPOSE, data={"u": user.id, "p": target}
        )
        _set_cookie(response, settings, cookie_name(settings, "second_factor"), proof)
        return response
    return start_browser_session(request, session, settings, user=user, target=target)


def _second_factor_missing(
    request: Request, session: Session, *, user: User, address: str
) -> Response:
    audit.record(
        session,
        actor=user,
        action="sign_in_refused",
        entity_type="user",
        entity_id=user.id,
        detail={"reason": "second_factor_missing", "client_address": address[:64]},
    )
    return render(request, "sign_in_no_second_factor.html", {}, user=None, status_code=403)


@router.get(SIGN_IN_CODE_PATH)
def code_form(request: Request, settings: SettingsDep) -> Response:
    """The second step: the code from the person's authenticator app."""
    if _second_factor_proof(request, settings) is None:
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    return render(request, "sign_in_code.html", {"errors": {}}, user=None)


@router.post(SIGN_IN_CODE_PATH)
def sign_in_with_code(
    request: Request,
    _csrf: CsrfProtected,
    session: SessionDep,
    settings: SettingsDep,
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Check the code (throttled like passwords) and start the session."""
    proof = _second_factor_proof(request, settings)
    if proof is None:
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    if not code.strip():
        context = {"errors": {"code": "Enter the 6-digit code from your authenticator app"}}
        return render(request, "sign_in_code.html", context, user=None)
    try:
        user = check_code(
            session,
            user_id=int(proof["u"]),
            code=code,
            client_address=client_address(request),
            policy=throttle_policy(settings),
            secret_key=settings.secret_key.get_secret_value(),
        )
    except SignInRefusedError as refused:
        status = 429 if refused.locked else 200
        context = {"errors": {"code": str(refused)}}
        return render(request, "sign_in_code.html", context, user=None, status_code=status)
    response = start_browser_session(
        request, session, settings, user=user, target=safe_next(str(proof["p"])), method="totp"
    )
    response.delete_cookie(
        cookie_name(settings, "second_factor"),
        path="/",
        secure=settings.secure_cookies,
        httponly=True,
    )
    return response


def _second_factor_proof(request: Request, settings: Settings) -> dict[str, Any] | None:
    proof = read_signed_cookie(
        settings,
        purpose=SECOND_FACTOR_PURPOSE,
        value=request.cookies.get(cookie_name(settings, "second_factor")),
        max_age_seconds=SECOND_FACTOR_SECONDS,
    )
    if proof is None or not isinstance(proof.get("u"), int):
        return None
    return proof


def start_browser_session(
    request: Request,
    session: Session,
    settings: Settings,
    *,
    user: User,
    target: str,
    method: str = "password",
    id_token: str | None = None,
) -> Response:
    """A new session and its cookie (never reuse one the browser brought), then on to
    ``target``."""
    old = request.cookies.get(session_cookie_name(settings))
    if old:
        end_session(session, token=old, actor=user)
    new = start_session(
        session,
        user=user,
        client_address=client_address(request),
        method=method,
        id_token=id_token,
    )
    response = RedirectResponse(target, status_code=303)
    _set_cookie(response, settings, session_cookie_name(settings), new.token)
    response.delete_cookie(
        anonymous_cookie_name(settings), path="/", secure=settings.secure_cookies, httponly=True
    )
    return response


def _set_cookie(response: Response, settings: Settings, name: str, value: str) -> None:
    response.set_cookie(
        name, value, httponly=True, secure=settings.secure_cookies, samesite="lax", path="/"
    )


@router.post("/sign-out")
def sign_out(
    request: Request,
    user: CurrentUser,
    _csrf: CsrfProtected,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """End this browser's session, and the identity provider's too when it offers that."""
    token = request.cookies.get(session_cookie_name(settings), "")
    ended = end_session(session, token=token, actor=user)
    target = SIGN_IN_PATH
    if ended is not None and ended.method == "oidc" and settings.oidc_enabled:
        client: OidcClient = provider_client(request)
        target = (
            client.end_session_url(
                id_token=ended.id_token,
                post_logout_redirect_uri=settings.public_base_url + SIGN_IN_PATH,
            )
            or SIGN_IN_PATH
        )
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(
        session_cookie_name(settings), path="/", secure=settings.secure_cookies, httponly=True
    )
    return response


def provider_client(request: Request) -> OidcClient:
    """The app's one client for its identity provider (its discovery and keys cached)."""
    state = request.app.state
    if getattr(state, "oidc_client", None) is None:
        state.oidc_client = OidcClient(ProviderConfig.from_settings(state.settings))
    client: OidcClient = state.oidc_client
    return client
