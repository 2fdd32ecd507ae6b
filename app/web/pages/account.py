"""A person's own account: enrolling a TOTP second factor for their break-glass password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.errors import DomainError
from app.users.totp import begin_enrolment, verify_code
from app.web.auth import CsrfProtected, StaffUser
from app.web.deps import SessionDep, SettingsDep
from app.web.pages.rendering import render

router = APIRouter()

TWO_FACTOR_PATH = "/account/two-factor"


@router.get(TWO_FACTOR_PATH)
def two_factor(request: Request, user: StaffUser, done: bool = False) -> Response:
    """Whether this account has a second factor, and a way to add one."""
    context = {
        "local_account": user.password_hash is not None,
        "enrolled": user.totp_confirmed_at is not None,
        "pending": user.totp_secret is not None and user.totp_confirmed_at is None,
        "done": done,
        "errors": {},
    }
    return render(request, "account/two_factor.html", context, user=user)


@router.post(TWO_FACTOR_PATH)
def start_enrolment(
    request: Request,
    user: StaffUser,
    _csrf: CsrfProtected,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """A new secret, shown this once as a QR code and as text, waiting for a first code."""
    try:
        enrolment = begin_enrolment(
            session,
            user=user,
            secret_key=settings.secret_key.get_secret_value(),
            issuer_name=settings.organisation_name,
            actor=user,
        )
    except DomainError as error:
        context = {
            "local_account": user.password_hash is not None,
            "enrolled": True,
            "pending": False,
            "done": False,
            "errors": {"enrol": str(error)},
        }
        return render(request, "account/two_factor.html", context, user=user, status_code=409)
    context = {
        "secret": enrolment.secret,
        "uri": enrolment.uri,
        "qr_svg": enrolment.qr_svg(),
        "errors": {},
    }
    response = render(request, "account/two_factor_enrol.html", context, user=user)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(TWO_FACTOR_PATH + "/confirm")
def confirm_enrolment(
    request: Request,
    user: StaffUser,
    _csrf: CsrfProtected,
    session: SessionDep,
    settings: SettingsDep,
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The first code from the authenticator app confirms the new second factor."""
    if user.totp_secret is None or user.totp_confirmed_at is not None:
        return RedirectResponse(TWO_FACTOR_PATH, status_code=303)
    if verify_code(
        session, user=user, code=code, secret_key=settings.secret_key.get_secret_value()
    ):
        return RedirectResponse(TWO_FACTOR_PATH + "?done=true", status_code=303)
    context = {
        "local_account": True,
        "enrolled": False,
        "pending": True,
        "done": False,
        "errors": {"code": "The code is not right. Enter the code your app shows now."},
    }
    return render(request, "account/two_factor.html", context, user=user, status_code=400)
