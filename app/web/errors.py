"""Maps domain errors to HTTP statuses in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from app.errors import (
    ConflictError,
    DomainError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from app.web.auth import signed_in_viewer
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
