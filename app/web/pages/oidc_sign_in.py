"""Signing in with the trust's identity provider (OpenID Connect: NHS CIS2, Entra ID).

The browser goes to the provider with a fresh state, nonce and PKCE challenge; what must come
back with it (the state, nonce and verifier) waits in a short-lived signed cookie. The callback
checks all of it, then the person is matched by subject and given their role
(app/users/identities.py) before a session like a password one starts.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app import audit
from app.config import Settings
from app.models import Role
from app.users.identities import NoAccessError, RoleMapping, sign_in_identity
from app.users.oidc import OidcError, PendingSignIn
from app.web.auth import (
    OIDC_CALLBACK_PATH,
    OIDC_START_PATH,
    client_address,
    cookie_name,
    read_signed_cookie,
    safe_next,
    signed_cookie_value,
)
from app.web.deps import SessionDep, SettingsDep
from app.web.pages.rendering import render
from app.web.pages.session import provider_client, start_browser_session

router = APIRouter()

PENDING_PURPOSE = "oidc-pending-sign-in"
# Long enough to sign in at the provider (a smartcard, a consent page), no longer.
PENDING_SECONDS = 600


@router.get(OIDC_START_PATH)
def start(
    request: Request, settings: SettingsDep, session: SessionDep, next: str = "/"
) -> Response:
    """Send the browser to the identity provider."""
    if not settings.oidc_enabled:
        return RedirectResponse("/sign-in", status_code=303)
    try:
        url, pending = provider_client(request).begin(next_path=safe_next(next))
    except OidcError as error:
        return _refused(request, session, reason=error.reason, message=str(error))
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        cookie_name(settings, "oidc"),
        signed_cookie_value(settings, purpose=PENDING_PURPOSE, data=pending.to_dict()),
        max_age=PENDING_SECONDS,
        httponly=True,
        secure=settings.secure_cookies,
        # The provider sends the browser back with a top-level GET: lax cookies come with it.
        samesite="lax",
        path="/",
    )
    return response


@router.get(OIDC_CALLBACK_PATH)
def callback(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    code: str = "",
    state: str = "",
    error: str = "",
) -> Response:
    """Check the provider's answer and start a session for the person it vouches for."""
    if not settings.oidc_enabled:
        return RedirectResponse("/sign-in", status_code=303)
    saved = read_signed_cookie(
        settings,
        purpose=PENDING_PURPOSE,
        value=request.cookies.get(cookie_name(settings, "oidc")),
        max_age_seconds=PENDING_SECONDS,
    )
    if error or not code:
        # The person cancelled, or the provider refused; its error code is a fixed word.
        return _refused(
            request, session, reason="provider_refused", message=_PROVIDER_REFUSED, detail=error
        )
    if saved is None:
        return _refused(request, session, reason="no_pending_sign_in", message=_START_AGAIN)
    try:
        pending = PendingSignIn.from_dict(saved)
        identity = provider_client(request).finish(pending, state=state, code=code)
        user = sign_in_identity(
            session,
            identity=identity,
            roles=role_mapping(settings),
            client_address=client_address(request),
        )
    except (KeyError, OidcError) as failure:
        reason = failure.reason if isinstance(failure, OidcError) else "no_pending_sign_in"
        # Starting again the same way would not help: say what the sign-in lacked.
        message = str(failure) if reason == "assurance_too_low" else _START_AGAIN
        return _refused(request, session, reason=reason, message=message)
    except NoAccessError as refused:
        page = render(
            request,
            "sign_in_no_access.html",
            {"reason": refused.reason, "message": str(refused)},
            user=None,
            status_code=403,
        )
        _forget_pending(page, settings)
        return page
    response = start_browser_session(
        request,
        session,
        settings,
        user=user,
        target=safe_next(pending.next_path),
        method="oidc",
        id_token=identity.id_token,
    )
    _forget_pending(response, settings)
    return response


_PROVIDER_REFUSED = "The sign-in was cancelled or refused by the identity provider."
_START_AGAIN = "The sign-in could not be completed. Start again from the sign-in page."


def role_mapping(settings: Settings) -> RoleMapping:
    """How the provider's claims become roles, as ``WAITLIST_OIDC_ROLE_*`` say."""
    return RoleMapping(
        claim=settings.oidc_role_claim,
        key=settings.oidc_role_claim_key,
        mapping={value: Role(role) for value, role in settings.oidc_role_mapping.items()},
        org_codes=frozenset(settings.oidc_role_org_codes) if settings.oidc_role_org_codes else None,
    )


def _refused(
    request: Request, session: SessionDep, *, reason: str, message: str, detail: str = ""
) -> Response:
    # Nobody is known yet: the audit says why, with no identifier of the person.
    audit.record(
        session,
        actor="unknown user",
        action="sign_in_refused",
        entity_type="user",
        detail={
            "reason": reason,
            "signed_in_with": "oidc",
            "provider_error": detail[:64],
            "client_address": client_address(request)[:64],
        },
    )
    context = {"reason": reason, "message": message}
    return render(request, "sign_in_failed.html", context, user=None, status_code=400)


def _forget_pending(response: Response, settings: SettingsDep) -> None:
    response.delete_cookie(
        cookie_name(settings, "oidc"), path="/", secure=settings.secure_cookies, httponly=True
    )
