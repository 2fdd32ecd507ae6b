"""Worklist pages: the list with filters and counts, one task with its actions, CSV and letters."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.config import Settings
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.models import Role, TaskReason, TaskState, User
from app.outcomes.by_telephone import (
    facts_for_task,
    questions,
    record_phone_validation,
    script_for_task,
)
from app.web.api.campaigns import script_registry
from app.web.auth import CsrfProtected, StaffUser, require_roles
from app.web.deps import SessionDep, SettingsDep
from app.web.ids import RowId, row_id_or_none
from app.web.pages.rendering import render
from app.worklist.letters import LETTER_TITLES, mark_letter_sent
from app.worklist.listing import TaskFilter, get_task, list_tasks, tasks_csv
from app.worklist.service import CLOSING_OUTCOMES, WORKERS, assign_task, complete_task, note_attempt
from app.worklist.tasks import REASON_TITLES

router = APIRouter()
# Clinicians and coordinators work the list; everyone on the staff reads it.
WorkerUser = Annotated[User, Depends(require_roles(Role.CLINICIAN, Role.COORDINATOR))]
DONE_MESSAGES = {
    "assigned": "Task taken",
    "released": "Task given back to the list",
    "attempt": "Try noted: the task stays open and comes due again",
    "completed": "Task closed",
    "validated": "Telephone validation recorded: it goes to clinical review as a call would",
    "sent": "Letter marked sent",
}


def _today(settings: Settings) -> dt.date:
    return dt.datetime.now(settings.zone).date()


def _filters(
    user: User,
    reason: str | None,
    state: str | None,
    owner: str | None,
    campaign: str | None,
    overdue: str | None,
) -> tuple[TaskFilter, dict[str, str]]:
    try:
        chosen_reason = TaskReason(reason) if reason else None
        chosen_state = None if state == "all" else TaskState(state) if state else TaskState.OPEN
    except ValueError as exc:
        raise HTTPException(status_code=404) from exc
    owner_name = user.username if owner == "me" else (None if owner in (None, "any") else owner)
    filters = TaskFilter(
        reason=chosen_reason,
        state=chosen_state,
        owner="" if owner == "none" else owner_name,
        campaign_id=row_id_or_none(campaign),
        overdue=overdue == "yes",
    )
    query = {
        "reason": reason or "",
        "state": state or "",
        "owner": owner or "",
        "campaign": str(filters.campaign_id or ""),
        "overdue": "yes" if filters.overdue else "",
    }
    return filters, query


@router.get("/worklist")
def list_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: StaffUser,
    reason: Annotated[str | None, Query(max_length=24)] = None,
    state: Annotated[str | None, Query(max_length=12)] = None,
    owner: Annotated[str | None, Query(max_length=100)] = None,
    campaign: Annotated[str | None, Query(max_length=20)] = None,
    overdue: Annotated[str | None, Query(max_length=3)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Tasks soonest due first, with counts per reason and state (every task shown is audited)."""
    filters, query = _filters(user, reason, state, owner, campaign, overdue)
    today = _today(settings)
    result = list_tasks(session, filters=filters, actor=user, today=today, offset=(page - 1) * 100)
    return render(
        request,
        "worklist/list.html",
        {
            "page": result,
            "page_number": page,
            "filters": query,
            "reason_titles": {r.value: t for r, t in REASON_TITLES.items()},
            "states": [s.value for s in TaskState],
            "today": today,
            "can_work": user.role in WORKERS,
        },
        user=user,
    )


# Declared before the task page so that "worklist.csv" is not read as a task id (the letters
# PDFs are in worklist_letters, whose router is included first for the same reason).
@router.get("/worklist.csv")
def csv_download(
    session: SessionDep,
    settings: SettingsDep,
    user: StaffUser,
    reason: Annotated[str | None, Query(max_length=24)] = None,
    state: Annotated[str | None, Query(max_length=12)] = None,
    owner: Annotated[str | None, Query(max_length=100)] = None,
    campaign: Annotated[str | None, Query(max_length=20)] = None,
    overdue: Annotated[str | None, Query(max_length=3)] = None,
) -> Response:
    """The tasks under the filters as CSV (audited like the page)."""
    filters, _ = _filters(user, reason, state, owner, campaign, overdue)
    result = list_tasks(session, filters=filters, actor=user, today=_today(settings), limit=None)
    return Response(
        tasks_csv(result.lines),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="worklist.csv"'},
    )


def _task_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    *,
    task_id: int,
    user: User,
    done: str | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    conflict: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        line = get_task(session, task_id=task_id, actor=user, today=_today(settings))
    except NotFoundError as exc:
        raise HTTPException(status_code=404) from exc
    script = script_for_task(session, task_id=task_id, registry=script_registry(request))
    facts = facts_for_task(
        session,
        task_id=task_id,
        organisation=settings.organisation_name,
        callback=settings.callback_number,
    )
    return render(
        request,
        "worklist/task.html",
        {
            "task": line,
            "done": DONE_MESSAGES.get(done or ""),
            "questions": [
                (
                    q.step,
                    q.prompt,
                    [
                        (c.key, c.meaning.replace("_", " "), f"For example: {c.words}")
                        for c in q.choices
                    ],
                )
                for q in questions(script, facts)
            ],
            "script": script,
            "closing_outcomes": list(CLOSING_OUTCOMES.items()),
            "letter_titles": {k.value: v for k, v in LETTER_TITLES.items()},
            "can_work": user.role in WORKERS,
            "is_mine": line.owner == user.username,
            "errors": errors or {},
            "form": form or {},
            "conflict": conflict,
            "zone": settings.zone,
        },
        user=user,
        status_code=status_code,
    )


@router.get("/worklist/{task_id}")
def task_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: StaffUser,
    task_id: RowId,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """One task: the patient, why, what was tried, and the forms to act on it (audited)."""
    return _task_page(request, session, settings, task_id=task_id, user=user, done=done)


def _failed(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    *,
    task_id: int,
    user: User,
    exc: Exception,
    form: dict[str, Any],
) -> HTMLResponse:
    session.rollback()
    if isinstance(exc, InvalidInputError):
        field = getattr(exc, "field", None) or "note"
        return _task_page(
            request,
            session,
            settings,
            task_id=task_id,
            user=user,
            errors={field: str(exc)},
            form=form,
            status_code=422,
        )
    return _task_page(
        request,
        session,
        settings,
        task_id=task_id,
        user=user,
        conflict=str(exc),
        form=form,
        status_code=409,
    )


@router.post("/worklist/{task_id}/assign", response_model=None)
def assign_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WorkerUser,
    _csrf: CsrfProtected,
    task_id: RowId,
    owner: Annotated[str, Form(max_length=8)] = "me",
) -> HTMLResponse | RedirectResponse:
    """Take the task, or give it back to the list."""
    try:
        assign_task(
            session, task_id=task_id, owner=user.username if owner == "me" else None, actor=user
        )
    except (InvalidInputError, ConflictError) as exc:
        return _failed(request, session, settings, task_id=task_id, user=user, exc=exc, form={})
    except NotFoundError as exc:
        raise HTTPException(status_code=404) from exc
    done = "assigned" if owner == "me" else "released"
    return RedirectResponse(f"/worklist/{task_id}?done={done}", status_code=303)


@router.post("/worklist/{task_id}/attempt", response_model=None)
def attempt_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WorkerUser,
    _csrf: CsrfProtected,
    task_id: RowId,
    attempt_note: Annotated[str, Form(max_length=4000)] = "",
) -> HTMLResponse | RedirectResponse:
    """Note a try that reached nobody (the task stays open and comes due again)."""
    try:
        note_attempt(session, task_id=task_id, note=attempt_note, actor=user)
    except (InvalidInputError, ConflictError) as exc:
        if isinstance(exc, InvalidInputError):
            exc = InvalidInputError(str(exc), field="attempt_note")
        return _failed(
            request,
            session,
            settings,
            task_id=task_id,
            user=user,
            exc=exc,
            form={"attempt_note": attempt_note},
        )
    except NotFoundError as exc:
        raise HTTPException(status_code=404) from exc
    return RedirectResponse(f"/worklist/{task_id}?done=attempt", status_code=303)


@router.post("/worklist/{task_id}/complete", response_model=None)
def complete_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WorkerUser,
    _csrf: CsrfProtected,
    task_id: RowId,
    outcome: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> HTMLResponse | RedirectResponse:
    """Close the task with an outcome and a note."""
    try:
        complete_task(session, task_id=task_id, outcome=outcome, note=note, actor=user)
    except (InvalidInputError, ConflictError) as exc:
        return _failed(
            request,
            session,
            settings,
            task_id=task_id,
            user=user,
            exc=exc,
            form={"outcome": outcome, "note": note},
        )
    except NotFoundError as exc:
        raise HTTPException(status_code=404) from exc
    return RedirectResponse(f"/worklist/{task_id}?done=completed", status_code=303)


@router.post("/worklist/{task_id}/validation", response_model=None)
async def validation_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WorkerUser,
    _csrf: CsrfProtected,
    task_id: RowId,
) -> HTMLResponse | RedirectResponse:
    """Record the answers the patient gave staff on the phone, to the script's questions."""
    submitted = await request.form()
    form = {key: str(value)[:100] for key, value in submitted.items() if isinstance(value, str)}
    answers = {
        key.removeprefix("answer-"): v for key, v in form.items() if key.startswith("answer-")
    }
    try:
        script = script_for_task(session, task_id=task_id, registry=script_registry(request))
        facts = facts_for_task(
            session,
            task_id=task_id,
            organisation=settings.organisation_name,
            callback=settings.callback_number,
        )
        record_phone_validation(
            session,
            task_id=task_id,
            script=script,
            facts=facts,
            answers=answers,
            identity_confirmed=form.get("identity_confirmed") == "yes",
            actor=user,
        )
    except (InvalidInputError, ConflictError) as exc:
        if isinstance(exc, InvalidInputError) and exc.field and exc.field != "identity_confirmed":
            exc = InvalidInputError(str(exc), field=f"answer-{exc.field}")
        return _failed(request, session, settings, task_id=task_id, user=user, exc=exc, form=form)
    except NotFoundError as exc:
        raise HTTPException(status_code=404) from exc
    return RedirectResponse(f"/worklist/{task_id}?done=validated", status_code=303)


@router.post("/worklist/{task_id}/letter-sent", response_model=None)
def letter_sent_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: WorkerUser,
    _csrf: CsrfProtected,
    task_id: RowId,
    letter_id: Annotated[RowId, Form()],
) -> HTMLResponse | RedirectResponse:
    """Record that the task's letter was posted."""
    try:
        mark_letter_sent(session, letter_id=letter_id, actor=user)
    except ConflictError as exc:
        return _failed(request, session, settings, task_id=task_id, user=user, exc=exc, form={})
    except NotFoundError as exc:
        raise HTTPException(status_code=404) from exc
    return RedirectResponse(f"/worklist/{task_id}?done=sent", status_code=303)
