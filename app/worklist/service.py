"""What staff do with a task: take it, note a try that got nowhere, or close it with an outcome.

Closing needs an outcome that really ends the follow-up; a try that reached nobody keeps the task
open and moves its due date, so "no answer again" can never be where a patient is left.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.calendar import add_working_days
from app.db import utcnow
from app.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from app.models import Role, TaskState, User, WorklistTask
from app.worklist.tasks import close_task

# Outcomes a person may close a task with (a phone validation and a sent letter close their
# own tasks, with ``validated_<outcome>`` and ``sent``).
CLOSING_OUTCOMES: dict[str, str] = {
    "deceased_confirmed": "Death confirmed: the PAS is updated",
    "passed_to_clinician": "Passed to a clinician to decide",
    "validated_elsewhere": "Validated another way (clinic, letter reply, PAS)",
    "not_needed": "No follow-up needed (say why in the note)",
}
# A try that reached nobody: the task comes due again after this many working days.
RETRY_WORKING_DAYS = 2
MAX_NOTE_LENGTH = 2000
WORKERS = frozenset({Role.CLINICIAN, Role.COORDINATOR})


def require_worker(user: User) -> None:
    """Clinicians and coordinators work the list; admins and service accounts only read it."""
    if user.role not in WORKERS or not user.is_active:
        raise PermissionDeniedError("Only clinicians and coordinators work the worklist.")


def get_open_task(session: Session, task_id: int) -> WorklistTask:
    """The task, if it is still open (staff act only on open tasks)."""
    task = session.get(WorklistTask, task_id)
    if task is None:
        raise NotFoundError("No such worklist task.")
    if task.state != TaskState.OPEN:
        raise ConflictError(f"This task is already {task.state.value} ({task.outcome}).")
    return task


def _note(note: str, *, required: bool) -> str | None:
    note = note.strip()
    if required and not note:
        raise InvalidInputError("Enter a note saying what was done.", field="note")
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInputError(
            f"The note must be {MAX_NOTE_LENGTH} characters or fewer.", field="note"
        )
    return note or None


def assign_task(session: Session, *, task_id: int, owner: str | None, actor: User) -> WorklistTask:
    """Give the task to ``owner`` (a username), or back to nobody (audited)."""
    require_worker(actor)
    task = get_open_task(session, task_id)
    owner_id = None
    if owner:
        person = session.scalar(select(User).where(User.username == owner))
        if person is None or person.role not in WORKERS or not person.is_active:
            raise InvalidInputError(f"{owner} cannot take worklist tasks.", field="owner")
        owner_id = person.id
    task.owner_id = owner_id
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="worklist_task.assigned",
        entity_type="worklist_task",
        entity_id=task.id,
        pathway_id=task.pathway_id,
        detail={"owner": owner or None},
    )
    return task


def note_attempt(
    session: Session, *, task_id: int, note: str, actor: User, now: dt.datetime | None = None
) -> WorklistTask:
    """A try that reached nobody: noted, and the task comes due again (it stays open)."""
    require_worker(actor)
    now = now or utcnow()
    task = get_open_task(session, task_id)
    text = _note(note, required=True)
    stamp = f"{now:%Y-%m-%d %H:%M} {actor.username}: {text}"
    task.note = f"{task.note}\n{stamp}" if task.note else stamp
    task.due_date = add_working_days(now.date(), RETRY_WORKING_DAYS)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="worklist_task.attempt_noted",
        entity_type="worklist_task",
        entity_id=task.id,
        pathway_id=task.pathway_id,
        detail={"due_date": task.due_date.isoformat()},
    )
    return task


def complete_task(
    session: Session,
    *,
    task_id: int,
    outcome: str,
    note: str,
    actor: User,
    now: dt.datetime | None = None,
) -> WorklistTask:
    """Close the task with one of ``CLOSING_OUTCOMES`` and a note (audited)."""
    require_worker(actor)
    if outcome not in CLOSING_OUTCOMES:
        raise InvalidInputError(
            f"Choose an outcome: {', '.join(CLOSING_OUTCOMES)}.", field="outcome"
        )
    task = get_open_task(session, task_id)
    text = _note(note, required=True)
    if not close_task(
        session, task=task, state=TaskState.DONE, outcome=outcome, actor=actor, note=text, now=now
    ):
        raise ConflictError("Someone else closed this task meanwhile.")
    return task
