"""Schedule pages: each rolling schedule, its rule and what is due (create them by CLI or API)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.campaigns.schedules import list_schedules, next_due_dates, view_schedule
from app.db import utcnow
from app.web.auth import StaffUser
from app.web.deps import SessionDep
from app.web.ids import RowId
from app.web.pages.rendering import render

router = APIRouter()


@router.get("/schedules")
def schedules(request: Request, user: StaffUser, session: SessionDep) -> HTMLResponse:
    """Every schedule with its due, overdue and falls-due-next-week counts."""
    views = list_schedules(session, today=utcnow().date())
    return render(request, "schedules/list.html", {"views": views}, user=user)


@router.get("/schedules/{schedule_id}")
def schedule(
    schedule_id: RowId, request: Request, user: StaffUser, session: SessionDep
) -> HTMLResponse:
    """One schedule and the pathways next due, soonest first."""
    view = view_schedule(session, schedule_id=schedule_id, today=utcnow().date())
    upcoming = next_due_dates(session, schedule_id=schedule_id, limit=50)
    return render(request, "schedules/show.html", {"view": view, "upcoming": upcoming}, user=user)
