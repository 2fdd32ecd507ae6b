"""The audit trail, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app import audit as audit_log
from app.audit_search import AuditFilters, search_audit_events
from app.web.auth import AdminUser
from app.web.deps import SessionDep
from app.web.ids import RowId, row_id_or_none
from app.web.pages.rendering import render

router = APIRouter()
PAGE_SIZE = 50


@router.get("/audit")
def audit_trail(
    request: Request,
    user: AdminUser,
    session: SessionDep,
    actor: Annotated[str, Query(max_length=100)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    pathway: Annotated[str, Query(max_length=20)] = "",
    before: Annotated[RowId | None, Query()] = None,
) -> HTMLResponse:
    """Who saw or changed what, newest first, filtered by actor, action or pathway."""
    errors: dict[str, str] = {}
    pathway_id: int | None = None
    if pathway.strip():
        pathway_id = row_id_or_none(pathway)
        if pathway_id is None:
            errors["pathway"] = "Pathway must be a number, like 1042"
    filters = AuditFilters(
        actor=actor.strip() or None, action=action.strip() or None, pathway_id=pathway_id
    )
    page = search_audit_events(session, filters=filters, before_id=before, limit=PAGE_SIZE)
    audit_log.record(
        session,
        actor=user,
        action="audit_viewed",
        entity_type="audit_event",
        detail={"actor": filters.actor, "action": filters.action, "pathway_id": pathway_id},
    )
    context = {
        "page": page,
        "filters": {"actor": actor, "action": action, "pathway": pathway},
        "errors": errors,
    }
    return render(request, "audit/list.html", context, user=user)
