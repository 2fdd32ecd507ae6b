"""Maps domain errors to HTTP statuses in one place, and shows the auth refusals (401, 403,
CSRF) and a page's 404 or 405 as the client expects: JSON for the API, a page for a browser.

They live here, above both ``auth`` and the pages' rendering, so that neither imports the other.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from app.errors import (
    ConflictError,
    DomainError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from app.web.auth import (
    API_PREFIX,
    CsrfError,
    NotAllowedError,
    NotAuthenticatedError,
    is_api_request,
    sign_in_redirect,
    signed_in_viewer,
)
from app.web.pages.rendering import render

STATUS_BY_ERROR: dict[type[DomainError], int] = {
    NotFoundError: 404,
    ConflictError: 409,
    PermissionDeniedError: 403,
    InvalidInputError: 422,
}


def status_for(error: DomainError) -> int:
    """The HTTP status that tells a client what kind of problem this is."""
    for kind, status in STATUS_BY_ERROR.items():
        if isinstance(error, kind):
            return status
    return 400


async def _domain_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    status = status_for(exc)
    if status == 404 and not request.url.path.startswith(("/api/", "/webhooks/")):
        # A page asked for something that does not exist: the designed page, as for any 404.
        return render(
            request, "errors/404.html", {}, user=signed_in_viewer(request), status_code=404
        )
    return JSONResponse({"detail": str(exc)}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Register the domain error handler on ``app``."""
    app.add_exception_handler(DomainError, _domain_error_handler)


async def _not_authenticated(request: Request, _exc: Exception) -> Response:
    if is_api_request(request):
        return JSONResponse(
            {"detail": "Authentication required: send Authorization: Bearer <token>."},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return sign_in_redirect(request)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotAllowedError)
    if is_api_request(request):
        return JSONResponse({"detail": "Your role does not allow this."}, status_code=403)
    return render(request, "errors/403.html", {}, user=exc.viewer, status_code=403)


async def _csrf_failed(request: Request, _exc: Exception) -> Response:
    return render(request, "errors/csrf.html", {}, user=signed_in_viewer(request), status_code=403)


def allowed_methods(request: Request) -> str:
    """Every method some route answers at this path, for a 405's ``Allow`` header.

    Starlette names only the methods of the first route whose path matched, so ``OPTIONS
    /api/v1/campaigns`` said ``Allow: GET`` although ``POST`` is served there too.
    """
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        if context.path and compile_path(context.path)[0].match(request.url.path):
            methods |= context.methods or set()
    return ", ".join(sorted(methods))


async def _not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        exc = StarletteHTTPException(405, exc.detail, headers={"Allow": allowed_methods(request)})
    if exc.status_code != 404 or request.url.path.startswith((API_PREFIX, "/webhooks/")):
        return await http_exception_handler(request, exc)
    return render(request, "errors/404.html", {}, user=signed_in_viewer(request), status_code=404)


def install_auth_handlers(app: FastAPI) -> None:
    """Map the auth exceptions to 401/303/403 responses, show pages' 404 as a page, and let a
    405 name every method the path serves."""
    app.add_exception_handler(NotAuthenticatedError, _not_authenticated)
    app.add_exception_handler(NotAllowedError, _not_allowed)
    app.add_exception_handler(CsrfError, _csrf_failed)
    app.add_exception_handler(StarletteHTTPException, _not_found)
