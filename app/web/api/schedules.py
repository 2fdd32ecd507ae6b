"""``/api/v1/schedules``: rolling validation schedules for machine clients."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from app.campaigns import schedules as service
from app.db import utcnow
from app.models import ScheduleStatus
from app.web.api.campaigns import script_registry
from app.web.api.responses import errors
from app.web.auth import CoordinatorUser, StaffUser
from app.web.deps import SessionDep, SettingsDep
from app.web.ids import RowId

router = APIRouter(tags=["schedules"])


class ScheduleIn(BaseModel):
    """A rolling schedule over a cohort, run under a standing campaign of the flow."""

    name: str = Field(min_length=1, max_length=200)
    cohort_id: RowId
    flow_id: str = Field(min_length=1, max_length=100, description="A call script id.")
    milestones: list[int] | None = Field(default=None, description="Weeks; default 12, 26, 52.")
    every_weeks: int | None = Field(default=None, description="Then every N weeks; default 12.")
    after_validation_weeks: int | None = Field(
        default=None, description="Or N weeks after the last validation; default 12."
    )
    window_days: int = Field(default=7, description="Contact up to N days before due.")
    daily_limit: int | None = None
    calling_windows: dict[str, Any] | None = None
    calls_per_second: float | None = Field(default=None, gt=0)
    simulated: bool = False


def _today() -> dt.date:
    return utcnow().date()


@router.get("/schedules")
def list_schedules(user: StaffUser, session: SessionDep) -> list[dict[str, Any]]:
    """Every schedule with its rule, its campaign and what is due, overdue and due next week."""
    return [view.as_json() for view in service.list_schedules(session, today=_today())]


@router.post("/schedules", status_code=201, responses=errors(400, 403, 404, 409))
def create_schedule(
    body: ScheduleIn,
    request: Request,
    user: CoordinatorUser,
    session: SessionDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Create a schedule and its standing campaign; every pathway gets its next due date."""
    created = service.create_schedule(
        session,
        registry=script_registry(request),
        name=body.name,
        cohort_id=body.cohort_id,
        flow_id=body.flow_id,
        provider_name=settings.telephony_provider,
        account_calls_per_second=settings.calls_per_second,
        milestones=body.milestones,
        every_weeks=body.every_weeks,
        after_validation_weeks=body.after_validation_weeks,
        window_days=body.window_days,
        daily_limit=body.daily_limit,
        calling_windows=body.calling_windows,
        calls_per_second=body.calls_per_second,
        simulated=body.simulated,
        timezone=settings.timezone,
        created_by=user.username,
    )
    return service.view_schedule(session, schedule_id=created.id, today=_today()).as_json()


@router.get("/schedules/{schedule_id}", responses=errors(404))
def get_schedule(
    schedule_id: RowId, user: StaffUser, session: SessionDep, next_due: int = 20
) -> dict[str, Any]:
    """One schedule, with the pathways next due (soonest first)."""
    document = service.view_schedule(session, schedule_id=schedule_id, today=_today()).as_json()
    document["next_due"] = [
        {"pathway_id": ref, "specialty_code": code, "next_due_date": when.isoformat()}
        for ref, code, when in service.next_due_dates(
            session, schedule_id=schedule_id, limit=min(max(next_due, 0), 500)
        )
        if when is not None
    ]
    return document


@router.post("/schedules/{schedule_id}/run", responses=errors(403, 404))
def run_schedule(schedule_id: RowId, user: CoordinatorUser, session: SessionDep) -> dict[str, Any]:
    """Run today's selection now (the worker runs it once a day by itself)."""
    schedule = service.get_schedule(session, schedule_id=schedule_id)
    return service.run_schedule(session, schedule=schedule, now=utcnow()).as_json()


@router.post("/schedules/{schedule_id}/pause", responses=errors(403, 404, 409))
def pause_schedule(
    schedule_id: RowId, user: CoordinatorUser, session: SessionDep
) -> dict[str, Any]:
    """Stop the daily selection (contacts already planned go on)."""
    service.set_status(
        session, schedule_id=schedule_id, to=ScheduleStatus.PAUSED, actor=user.username
    )
    return service.view_schedule(session, schedule_id=schedule_id, today=_today()).as_json()


@router.post("/schedules/{schedule_id}/resume", responses=errors(403, 404, 409))
def resume_schedule(
    schedule_id: RowId, user: CoordinatorUser, session: SessionDep
) -> dict[str, Any]:
    """Start the daily selection again."""
    service.set_status(
        session, schedule_id=schedule_id, to=ScheduleStatus.ACTIVE, actor=user.username
    )
    return service.view_schedule(session, schedule_id=schedule_id, today=_today()).as_json()
