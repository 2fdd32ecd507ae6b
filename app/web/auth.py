"""Who is asking, and may they: sessions for pages, bearer tokens for the API, CSRF for forms.

Deny by default: a route is public only if it is listed in :data:`PUBLIC_ROUTES` (a test walks
every route and fails on one that neither names a user dependency nor is listed). Pages take a
session cookie only, the API (``/api/``) takes a bearer token only, so a browser's cookie can
never drive the API and a leaked token can never drive the pages.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.config import Settings
from app.models import Role, User, UserSession
from app.users.sessions import SessionPolicy, resolve_session
from app.users.tokens import resolve_api_token
from app.web.deps import SessionDep, SettingsDep

API_PREFIX = "/api/"
SIGN_IN_PATH = "/sign-in"
OIDC_START_PATH = "/sign-in/oidc"
OIDC_CALLBACK_PATH = "/sign-in/oidc/callback"
SIGN_IN_CODE_PATH = "/sign-in/code"

# (method, path) of routes anyone may call; webhooks verify their own signatures.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),  # no user: its own bearer token (app/web/metrics.py)
        ("GET", SIGN_IN_PATH),
        ("POST", SIGN_IN_PATH),
        ("GET", OIDC_START_PATH),  # sends the browser to the identity provider
        ("GET", OIDC_CALLBACK_PATH),  # checks the provider's answer (state, PKCE, ID token)
        ("GET", SIGN_IN_CODE_PATH),  # the second step: a signed cookie says whose password
        ("POST", SIGN_IN_CODE_PATH),
    }
)
PUBLIC_PREFIXES: tuple[str, ...] = ("/webhooks/", "/static", "/docs", "/redoc", "/openapi.json")


class NotAuthenticatedError(Exception):
    """Nobody is signed in (pages redirect to sign-in; the API answers 401)."""


@dataclass(frozen=True)
class Viewer:
    """Who is signed in, as plain values copied while the request's session was open.

    Error pages are rendered after that session has been rolled back and closed, when the ORM
    ``User`` can no longer load its attributes; they show this copy instead.
    """

    id: int
    username: str
    full_name: str
    role: Role | None

    @classmethod
    def of(cls, user: User | Viewer) -> Viewer:
        """A copy of ``user`` that needs no database session to read."""
        if isinstance(user, Viewer):
            return user
        return cls(id=user.id, username=user.username, full_name=user.full_name, role=user.role)


class NotAllowedError(Exception):
    """Someone is signed in but their role does not allow this (403)."""

    def __init__(self, user: User) -> None:
        super().__init__(f"role {user.role.value if user.role else 'none'} not allowed")
        self.viewer = Viewer.of(user)


@dataclass(frozen=True)
class Principal:
    """The signed-in user and, for a browser, their session."""

    user: User
    session: UserSession | None


def session_cookie_name(settings: Settings) -> str:
    """``__Host-`` cookies are Secure, host-only and path ``/`` by browser rule."""
    return "__Host-waitlist_session" if settings.secure_cookies else "waitlist_session"


def anonymous_cookie_name(settings: Settings) -> str:
    """The cookie that ties the sign-in form's CSRF token to the browser that asked for it."""
    return "__Host-waitlist_csrf" if settings.secure_cookies else "waitlist_csrf"


def signed_cookie_value(settings: Settings, *, purpose: str, data: dict[str, Any]) -> str:
    """``data`` signed with the secret key for one ``purpose`` (the browser can read, not forge)."""
    return str(_serializer(settings, purpose).dumps(data))


def read_signed_cookie(
    settings: Settings, *, purpose: str, value: str | None, max_age_seconds: int
) -> dict[str, Any] | None:
    """The data of a cookie from :func:`signed_cookie_value`, or None if forged or too old."""
    if not value:
        return None
    try:
        data = _serializer(settings, purpose).loads(value, max_age=max_age_seconds)
    except BadSignature:
        return None
    return data if isinstance(data, dict) else None


def _serializer(settings: Settings, purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key.get_secret_value(), salt=purpose)


def cookie_name(settings: Settings, name: str) -> str:
    """A sign-in cookie's name, ``__Host-`` prefixed on https like the session cookie."""
    return f"__Host-waitlist_{name}" if settings.secure_cookies else f"waitlist_{name}"


def identity_provider_origins(settings: Settings) -> tuple[str, ...]:
    """The identity provider's origin, where signing out may send the browser."""
    if not settings.oidc_enabled or not settings.oidc_issuer:
        return ()
    parts = urlsplit(settings.oidc_issuer)
    return (f"{parts.scheme}://{parts.netloc}",)


def is_api_request(request: Request) -> bool:
    """Whether the caller is a machine client of the JSON API."""
    return request.url.path.startswith(API_PREFIX)


def client_address(request: Request) -> str:
    """The client's address as uvicorn saw it (after trusted proxy headers)."""
    return request.client.host if request.client else "unknown"


def _bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def get_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal | None:
    """Whoever the request carries credentials for, or None (resolved once per request)."""
    if is_api_request(request):
        token = _bearer_token(request)
        user = resolve_api_token(session, value=token) if token else None
        return Principal(user=user, session=None) if user else None
    cookie = request.cookies.get(session_cookie_name(settings))
    if not cookie:
        return None
    policy = SessionPolicy(
        idle=_minutes(settings.session_idle_minutes),
        absolute=_minutes(settings.session_max_hours * 60),
    )
    found = resolve_session(session, token=cookie, policy=policy)
    if found is None:
        return None
    user, record = found
    request.state.csrf_token = record.csrf_token
    request.state.viewer = Viewer.of(user)
    return Principal(user=user, session=record)


def _minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


OptionalPrincipal = Annotated[Principal | None, Depends(get_principal)]


def get_current_user(principal: OptionalPrincipal) -> User:
    """The signed-in user; otherwise 401 (API) or a redirect to sign-in (pages)."""
    if principal is None:
        raise NotAuthenticatedError
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]


@dataclass(frozen=True)
class RoleCheck:
    """A dependency that lets only users with one of ``roles`` through (403 otherwise).

    The roles stay readable on the dependency, so tests can learn from the routes themselves
    who may call each one.
    """

    roles: frozenset[Role]

    def __call__(self, user: CurrentUser) -> User:
        """The user, if their role is one of ``roles``."""
        if user.role not in self.roles:
            raise NotAllowedError(user)
        return user


def require_roles(*roles: Role) -> RoleCheck:
    """A dependency that lets only users with one of ``roles`` through (403 otherwise)."""
    return RoleCheck(frozenset(roles))


ClinicianUser = Annotated[User, Depends(require_roles(Role.CLINICIAN))]
CoordinatorUser = Annotated[User, Depends(require_roles(Role.COORDINATOR))]
AdminUser = Annotated[User, Depends(require_roles(Role.ADMIN))]
StaffUser = Annotated[User, Depends(require_roles(*Role))]


def anonymous_csrf_token(secret: str, nonce: str) -> str:
    """The sign-in form's token: bound to the browser's nonce cookie and the server's secret."""
    return hmac.new(secret.encode(), b"sign-in:" + nonce.encode(), hashlib.sha256).hexdigest()


def new_anonymous_nonce() -> str:
    """A fresh value for the anonymous CSRF cookie."""
    return secrets.token_urlsafe(32)


async def verify_csrf(
    request: Request, principal: OptionalPrincipal, settings: SettingsDep
) -> None:
    """Refuse a form post whose ``csrf_token`` is not this browser's (403)."""
    form = await request.form()
    sent = form.get("csrf_token")
    if principal is not None and principal.session is not None:
        expected: str | None = principal.session.csrf_token
    else:
        nonce = request.cookies.get(anonymous_cookie_name(settings))
        expected = (
            anonymous_csrf_token(settings.secret_key.get_secret_value(), nonce) if nonce else None
        )
    if not isinstance(sent, str) or expected is None:
        raise CsrfError
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfError


class CsrfError(Exception):
    """A form arrived without this browser's CSRF token (403)."""


CsrfProtected = Annotated[None, Depends(verify_csrf)]


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in; anything else (another site) becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return "/"
    return target


def sign_in_redirect(request: Request) -> RedirectResponse:
    """Send a signed-out browser to sign in, then back where it was going."""
    if request.method not in ("GET", "HEAD"):
        # A form post cannot be replayed after sign-in; start again from the home page.
        return RedirectResponse(SIGN_IN_PATH, status_code=303)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"{SIGN_IN_PATH}?next={quote(target, safe='')}", status_code=303)


def signed_in_viewer(request: Request) -> Viewer | None:
    """The browser's signed-in user as resolved for this request (for error pages), or None."""
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    return viewer
