"""Rendering pages: one Jinja2 environment, and the context every page template gets."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.routing import iter_route_contexts
from fastapi.templating import Jinja2Templates
from jinja2 import ChainableUndefined, Environment, PackageLoader, pass_context
from jinja2.runtime import Context

from app.config import Settings
from app.models import Role, User
from app.web.auth import (
    Viewer,
    anonymous_cookie_name,
    anonymous_csrf_token,
    new_anonymous_nonce,
)
from app.web.pages import wording

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
SERVICE_NAME = "Waiting list validation"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
LOCAL_FORMAT = "%-d %b %Y %H:%M"
DEFAULT_ZONE = ZoneInfo(str(Settings.model_fields["timezone"].default))


@pass_context
def local_time(context: Context, value: dt.datetime | None, fmt: str = LOCAL_FORMAT) -> str:
    """A stored UTC time in the hospital's zone (``WAITLIST_TIMEZONE``), as staff read clocks."""
    if value is None:
        return ""
    request = context.get("request")
    # A macro imported without context has no request: the default zone, never UTC unlabelled.
    zone = request.app.state.settings.zone if request is not None else DEFAULT_ZONE
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(zone).strftime(fmt)


templates.env.filters["local_time"] = local_time
templates.env.filters.update(wording.FILTERS)

# NHS.UK frontend's own component templates, from nhsuk-frontend-jinja (its 0.10 releases follow
# the vendored frontend 10.6; tests/web/test_macros.py checks the two agree). They rely on
# ChainableUndefined, so they render in their own environment: our templates keep Jinja's
# default Undefined (a misspelt name still fails) and call them through the ``nhsuk`` global.
_components = Environment(
    loader=PackageLoader("nhsuk_frontend_jinja"),
    autoescape=True,
    undefined=ChainableUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _component(name: str, macro: str) -> Any:
    return getattr(_components.get_template(f"nhsuk/components/{name}/macro.jinja").module, macro)


templates.env.globals["nhsuk"] = {
    "button": _component("button", "button"),
    "errorSummary": _component("error-summary", "errorSummary"),
}


@dataclass(frozen=True)
class NavItem:
    """A link in the header, shown to the roles that may use it once its page exists."""

    label: str
    href: str
    roles: frozenset[Role]


# Each area owns its line; an item appears only once a route answers GET at its href.
NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Review queue", "/review", frozenset({Role.CLINICIAN, Role.COORDINATOR})),
    NavItem("Worklist", "/worklist", frozenset(Role)),
    NavItem("Campaigns", "/campaigns", frozenset(Role)),
    NavItem("Cohorts", "/cohorts", frozenset({Role.COORDINATOR})),
    NavItem("Call scripts", "/call-scripts", frozenset({Role.CLINICIAN, Role.COORDINATOR})),
    NavItem("Reports", "/reports", frozenset(Role)),
    NavItem("Audit", "/audit", frozenset({Role.ADMIN})),
    NavItem("People", "/users", frozenset({Role.ADMIN})),
)


def nav_items_for(request: Request, user: User | Viewer | None) -> list[dict[str, Any]]:
    """The header links this user may follow, with the current one marked."""
    if user is None:
        return []
    served = _page_paths(request)
    path = request.url.path
    return [
        {
            "label": item.label,
            "href": item.href,
            "current": path == item.href or path.startswith(item.href + "/"),
        }
        for item in NAV_ITEMS
        if user.role in item.roles and item.href in served
    ]


def _page_paths(request: Request) -> frozenset[str]:
    # Routes are fixed once the app is built: collect the GET paths once per app.
    state = request.app.state
    if not hasattr(state, "page_paths"):
        state.page_paths = frozenset(
            context.path
            for context in iter_route_contexts(request.app.routes)
            if context.path and "GET" in (context.methods or ())
        )
    paths: frozenset[str] = state.page_paths
    return paths


def render(
    request: Request,
    template_name: str,
    context: dict[str, Any],
    *,
    user: User | Viewer | None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page from ``template_name`` with the user, CSRF token, navigation and organisation.

    Templates get a :class:`Viewer` copy of the user, never the ORM row, so the same page renders
    whether or not the request's session is still open (error pages come after it closed).
    """
    settings = request.app.state.settings
    viewer = Viewer.of(user) if user is not None else None
    new_nonce: str | None = None
    csrf_token = getattr(request.state, "csrf_token", None) if viewer is not None else None
    if csrf_token is None:
        # Signed out (the sign-in form): a token bound to a nonce cookie in this browser.
        nonce = request.cookies.get(anonymous_cookie_name(settings))
        if not nonce:
            nonce = new_nonce = new_anonymous_nonce()
        csrf_token = anonymous_csrf_token(settings.secret_key.get_secret_value(), nonce)
    full_context = {
        "current_user": viewer,
        "csrf_token": csrf_token,
        "nav_items": nav_items_for(request, viewer),
        "organisation_name": settings.organisation_name,
        "service_name": SERVICE_NAME,
        **context,
    }
    response = templates.TemplateResponse(
        request, template_name, full_context, status_code=status_code
    )
    if new_nonce is not None:
        response.set_cookie(
            anonymous_cookie_name(settings),
            new_nonce,
            httponly=True,
            secure=settings.secure_cookies,
            samesite="lax",
            path="/",
        )
    return response
