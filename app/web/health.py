"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.schema import check_readiness
from app.web.deps import SettingsDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up (says nothing about the database)."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready, with the reason"}})
def readyz(request: Request, settings: SettingsDep) -> JSONResponse:
    """The database is reachable and its schema is at the code's migration head."""
    readiness = check_readiness(request.app.state.engine, settings.migrations_path)
    return JSONResponse(
        {"status": "ready" if readiness.ready else "not ready", "reason": readiness.reason},
        status_code=200 if readiness.ready else 503,
    )
