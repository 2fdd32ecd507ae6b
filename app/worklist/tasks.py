"""Opening and closing worklist tasks: the one way a follow-up owed to a patient is recorded.

A task is opened wherever the service hands a patient to a person (an ending of a script that
promises a contact, a rule that keeps a patient from automated calls, a clinician's "call back",
a letter to send), once per pathway and reason while it is open. Every change is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app import audit
from app.calendar import add_working_days
from app.db import changed, utcnow
from app.models import Pathway, TaskReason, TaskState, User, WorklistTask
from app.worklist.escalation import SERVICE_ACTOR, is_safety_critical

R = TaskReason
# Working days within which someone should have acted (overdue after that).
DUE_WORKING_DAYS: dict[TaskReason, int] = {
    R.REPORTED_DECEASED: 1,
    R.CALLBACK_REQUESTED: 2,
    R.CLINICIAN_CALL_BACK: 2,
    R.UNVERIFIED: 5,
    R.UNCLEAR: 5,
    R.LETTER: 5,
    R.UNREACHABLE: 10,
    R.OPTED_OUT: 10,
    R.LANGUAGE: 10,
    R.ACCESS: 10,
}
# What each reason asks of staff, in words for pages and the CLI.
REASON_TITLES: dict[TaskReason, str] = {
    R.UNVERIFIED: "Identity not confirmed on the call",
    R.CALLBACK_REQUESTED: "Patient asked to be called back",
    R.UNCLEAR: "No clear answer on the call",
    R.UNREACHABLE: "Unreachable after every attempt",
    R.OPTED_OUT: "Opted out: validate another way",
    R.LANGUAGE: "Interpreter or another language needed",
    R.ACCESS: "Not for automated calls (access needs)",
    R.REPORTED_DECEASED: "Reported deceased on the call",
    R.CLINICIAN_CALL_BACK: "Clinician asked for a call back",
    R.LETTER: "Letter to send",
}


def due_date_for(reason: TaskReason, *, now: dt.datetime) -> dt.date:
    """The date a task opened now for ``reason`` is due."""
    return add_working_days(now.date(), DUE_WORKING_DAYS[reason])


def open_task(
    session: Session,
    *,
    pathway: Pathway,
    reason: TaskReason,
    detail: str | None = None,
    campaign_id: int | None = None,
    letter_id: int | None = None,
    actor: User | str = SERVICE_ACTOR,
    now: dt.datetime | None = None,
    recorded: Mapping[str, object] | None = None,
) -> WorklistTask:
    """The pathway's open task for ``reason``, opened (and audited) if there is none.

    Letters are the exception: each letter is its own task, since two letters are two jobs.
    ``recorded`` (what the call recorded) can make a task safety-critical: see ``escalation.py``.
    """
    now = now or utcnow()
    if letter_id is None:
        existing = session.scalars(
            select(WorklistTask).where(
                WorklistTask.pathway_id == pathway.id,
                WorklistTask.reason == reason,
                WorklistTask.state == TaskState.OPEN,
            )
        ).first()
        if existing is not None:
            if not existing.safety_critical and is_safety_critical(reason, recorded):
                existing.safety_critical = True  # a later call raised a red flag
                session.flush()
            return existing
    task = WorklistTask(
        pathway_id=pathway.id,
        patient_id=pathway.patient_id,
        campaign_id=campaign_id,
        reason=reason,
        detail=(detail or "")[:500] or None,
        letter_id=letter_id,
        state=TaskState.OPEN,
        due_date=due_date_for(reason, now=now),
        safety_critical=is_safety_critical(reason, recorded),
        created_at=now,
    )
    session.add(task)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="worklist_task.opened",
        entity_type="worklist_task",
        entity_id=task.id,
        pathway_id=pathway.id,
        detail={
            "reason": reason.value,
            "campaign_id": campaign_id,
            "safety_critical": task.safety_critical,
        },
    )
    return task


def open_new_tasks(
    session: Session,
    *,
    tasks: list[tuple[int, int, TaskReason, str | None]],
    now: dt.datetime,
    campaign_id: int | None = None,
) -> int:
    """Open (and audit) a task per ``(pathway_id, patient_id, reason, detail)``, in bulk.

    For callers that already know none of these pathways has a task for that reason (the rule
    evaluation of an import, a campaign's planning: each checks first): the same rows as
    ``open_task`` writes, by the service, with two bulk INSERTs instead of an ORM object, a
    look-up and a flush per task.
    """
    if not tasks:
        return 0
    due = {reason: due_date_for(reason, now=now) for reason in {task[2] for task in tasks}}
    ids = session.scalars(
        insert(WorklistTask).returning(WorklistTask.id, sort_by_parameter_order=True),
        [
            {
                "pathway_id": pathway_id,
                "patient_id": patient_id,
                "campaign_id": campaign_id,
                "reason": reason,
                "detail": (detail or "")[:500] or None,
                "letter_id": None,
                "state": TaskState.OPEN,
                "due_date": due[reason],
                "safety_critical": is_safety_critical(reason),
                "created_at": now,
            }
            for pathway_id, patient_id, reason, detail in tasks
        ],
    ).all()
    audit.record_many(
        session,
        actor=SERVICE_ACTOR,
        action="worklist_task.opened",
        entity_type="worklist_task",
        events=[
            (
                task_id,
                pathway_id,
                {
                    "reason": reason.value,
                    "campaign_id": campaign_id,
                    "safety_critical": is_safety_critical(reason),
                },
            )
            for task_id, (pathway_id, _, reason, _) in zip(ids, tasks, strict=True)
        ],
    )
    return len(ids)


def close_task(
    session: Session,
    *,
    task: WorklistTask,
    state: TaskState,
    outcome: str,
    actor: User | str,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Close an open task (a guarded UPDATE: closing twice changes nothing); True if it closed."""
    now = now or utcnow()
    closed = session.execute(
        update(WorklistTask)
        .where(WorklistTask.id == task.id, WorklistTask.state == TaskState.OPEN)
        .values(
            state=state,
            outcome=outcome,
            note="\n".join(text for text in (task.note, note) if text) or None,
            closed_at=now,
            closed_by=actor.username if isinstance(actor, User) else actor,
        )
        .execution_options(synchronize_session=False)
    )
    if changed(closed) != 1:
        return False
    session.refresh(task)
    audit.record(
        session,
        actor=actor,
        action=f"worklist_task.{state.value}",
        entity_type="worklist_task",
        entity_id=task.id,
        pathway_id=task.pathway_id,
        detail={"reason": task.reason.value, "outcome": outcome},
    )
    return True


def cancel_resolved_tasks(
    session: Session,
    *,
    pathway_id: int,
    reasons: frozenset[TaskReason],
    outcome: str,
    except_task_id: int | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Close the pathway's open tasks of ``reasons`` that a later answer made unnecessary."""
    tasks = session.scalars(
        select(WorklistTask).where(
            WorklistTask.pathway_id == pathway_id,
            WorklistTask.reason.in_(reasons),
            WorklistTask.state == TaskState.OPEN,
        )
    ).all()
    closed = 0
    for task in tasks:
        if task.id == except_task_id:
            continue
        closed += close_task(
            session,
            task=task,
            state=TaskState.CANCELLED,
            outcome=outcome,
            actor=SERVICE_ACTOR,
            now=now,
        )
    return closed
