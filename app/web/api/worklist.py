"""``/api/v1/worklist``: the follow-ups staff owe patients, for machine clients (audited)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from app.models import TaskReason, TaskState
from app.outcomes.by_telephone import facts_for_task, record_phone_validation, script_for_task
from app.web.api.campaigns import script_registry
from app.web.api.responses import errors
from app.web.auth import StaffUser
from app.web.deps import SessionDep, SettingsDep
from app.web.ids import RowId
from app.worklist.letters import mark_letter_sent
from app.worklist.listing import TaskFilter, TaskLine, get_task, list_tasks
from app.worklist.service import assign_task, complete_task

router = APIRouter(tags=["worklist"])
ACT = errors(403, 404, 409)
# A route with a JSON body can also meet one it cannot read.
ACT_WITH_BODY = errors(400, 403, 404, 409)


class TaskOut(BaseModel):
    """One worklist task with its patient and what staff need to act."""

    id: int
    reason: TaskReason
    reason_title: str
    detail: str | None
    state: TaskState
    due_date: dt.date
    overdue: bool
    safety_critical: bool
    escalated_at: dt.datetime | None
    owner: str | None
    outcome: str | None
    note: str | None
    pathway_id: int
    pathway_reference: str
    specialty_code: str
    campaign_id: int | None
    name: str
    nhs_number: str
    mobile_phone: str | None
    landline_phone: str | None
    preferred_language: str
    interpreter_required: bool
    letter_id: int | None
    letter_kind: str | None
    letter_sent_at: dt.datetime | None
    created_at: dt.datetime
    closed_at: dt.datetime | None

    @classmethod
    def of(cls, line: TaskLine) -> TaskOut:
        """The API shape of a task."""
        return cls.model_validate(line.as_json())


class TaskPageOut(BaseModel):
    """A page of tasks, the total under the filters, counts per reason and per state, and how
    many open tasks under the other filters are overdue."""

    tasks: list[TaskOut]
    total: int
    by_reason: dict[str, int]
    by_state: dict[str, int]
    overdue: int


class AssignIn(BaseModel):
    """Who takes the task (a username), or null to give it back to the list."""

    owner: str | None = Field(default=None, max_length=100)


class CompleteIn(BaseModel):
    """Close a task with one of the closing outcomes and a note."""

    outcome: str = Field(max_length=32)
    note: str = Field(max_length=2000)


class ValidationIn(BaseModel):
    """The answers the patient gave staff on the phone: question step -> option key."""

    identity_confirmed: bool
    answers: dict[str, str]


class ValidationOut(BaseModel):
    """The outcome the script reached with those answers."""

    outcome: str
    pathway_outcome_id: int


def _today(settings: SettingsDep) -> dt.date:
    return dt.datetime.now(settings.zone).date()


@router.get("/worklist")
def list_worklist(
    session: SessionDep,
    settings: SettingsDep,
    user: StaffUser,
    reason: TaskReason | None = None,
    state: Annotated[TaskState | None, Query(description="Default: open.")] = TaskState.OPEN,
    owner: Annotated[str | None, Query(max_length=100, description='"" = nobody')] = None,
    campaign_id: RowId | None = None,
    overdue: Annotated[bool, Query(description="Only open tasks past their due date.")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> TaskPageOut:
    """Tasks under the filters, overdue and safety-critical first, then soonest due (every task
    returned is audited)."""
    page = list_tasks(
        session,
        filters=TaskFilter(
            reason=reason, state=state, owner=owner, campaign_id=campaign_id, overdue=overdue
        ),
        actor=user,
        today=_today(settings),
        limit=limit,
        offset=offset,
    )
    return TaskPageOut(
        tasks=[TaskOut.of(line) for line in page.lines],
        total=page.total,
        by_reason=page.by_reason,
        by_state=page.by_state,
        overdue=page.overdue,
    )


@router.get("/worklist/{task_id}", responses=errors(404))
def read_task(
    session: SessionDep, settings: SettingsDep, user: StaffUser, task_id: RowId
) -> TaskOut:
    """One task (audited)."""
    return TaskOut.of(get_task(session, task_id=task_id, actor=user, today=_today(settings)))


@router.post("/worklist/{task_id}/assign", responses=ACT_WITH_BODY)
def assign(
    session: SessionDep, settings: SettingsDep, user: StaffUser, task_id: RowId, body: AssignIn
) -> TaskOut:
    """Give the task to someone, or back to the list."""
    assign_task(session, task_id=task_id, owner=body.owner, actor=user)
    return TaskOut.of(get_task(session, task_id=task_id, actor=user, today=_today(settings)))


@router.post("/worklist/{task_id}/complete", responses=ACT_WITH_BODY)
def complete(
    session: SessionDep, settings: SettingsDep, user: StaffUser, task_id: RowId, body: CompleteIn
) -> TaskOut:
    """Close the task with an outcome and a note."""
    complete_task(session, task_id=task_id, outcome=body.outcome, note=body.note, actor=user)
    return TaskOut.of(get_task(session, task_id=task_id, actor=user, today=_today(settings)))


@router.post("/worklist/{task_id}/validation", responses=ACT_WITH_BODY)
def validation(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: StaffUser,
    task_id: RowId,
    body: ValidationIn,
) -> ValidationOut:
    """Record a telephone validation: the script's engine turns the answers into its outcome."""
    script = script_for_task(session, task_id=task_id, registry=script_registry(request))
    facts = facts_for_task(
        session,
        task_id=task_id,
        organisation=settings.organisation_name,
        callback=settings.callback_number,
    )
    entry = record_phone_validation(
        session,
        task_id=task_id,
        script=script,
        facts=facts,
        answers=body.answers,
        identity_confirmed=body.identity_confirmed,
        actor=user,
    )
    return ValidationOut(outcome=entry.outcome.value, pathway_outcome_id=entry.id)


@router.post("/worklist/letters/{letter_id}/sent", responses=ACT)
def letter_sent(session: SessionDep, user: StaffUser, letter_id: RowId) -> dict[str, object]:
    """Record that a letter was posted; its task is done."""
    letter = mark_letter_sent(session, letter_id=letter_id, actor=user)
    return {"id": letter.id, "sent_at": letter.sent_at}
