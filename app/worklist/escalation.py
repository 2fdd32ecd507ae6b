"""Overdue follow-ups: which come first, when one is escalated, and who holds it.

The one rule, for every list, count and sweep:

- A task is **overdue** from the day after its due date (``DUE_WORKING_DAYS`` in ``tasks.py``).
- **Safety-critical** tasks rank first in every list, overdue or not: a reported death, a call back
  a clinician asked for, a call back asked for by a patient whose condition is worse (a red flag
  on the call), and an unclear answer (it may hide a worsening).
- The worker's housekeeping **escalates** a task once: ``escalated_at`` is recorded and audited on
  a safety-critical task's first overdue day, and on any other task once it has been overdue for
  ``ROUTINE_GRACE_WORKING_DAYS`` more working days. The due date may move on after (a try noted);
  the escalation stays on the record.
- A task held by someone whose account is disabled goes back to the team's queue (nobody's).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from app import audit
from app.calendar import subtract_working_days
from app.models import TaskReason, TaskState, User, WorklistTask

log = logging.getLogger(__name__)
R = TaskReason
SAFETY_CRITICAL_REASONS = frozenset({R.REPORTED_DECEASED, R.CLINICIAN_CALL_BACK, R.UNCLEAR})
# Working days a routine task stays overdue before it is escalated (safety-critical: none).
ROUTINE_GRACE_WORKING_DAYS = 2
SERVICE_ACTOR = "service"


def is_safety_critical(reason: TaskReason, recorded: Mapping[str, object] | None = None) -> bool:
    """Whether a task for ``reason`` (given what the call recorded) ranks and escalates first."""
    if reason in SAFETY_CRITICAL_REASONS:
        return True
    recorded = recorded or {}
    worse = bool(recorded.get("red_flag")) or recorded.get("condition") == "worse"
    return reason == R.CALLBACK_REQUESTED and worse


def is_overdue(task: WorklistTask, *, today: dt.date) -> bool:
    """Open and past its due date (``today`` in the trust's time zone); ``overdue`` in SQL."""
    return task.state == TaskState.OPEN and task.due_date < today


def overdue(today: dt.date) -> ColumnElement[bool]:
    """The SQL condition "open and past its due date": ``is_overdue`` for a query."""
    return and_(WorklistTask.state == TaskState.OPEN, WorklistTask.due_date < today)


def list_order(today: dt.date) -> tuple[Any, ...]:
    """The order of every list: overdue first, safety-critical first, then soonest due."""
    return (
        case((overdue(today), 0), else_=1),
        case((WorklistTask.safety_critical.is_(True), 0), else_=1),
        WorklistTask.due_date,
        WorklistTask.id,
    )


def escalation_due(today: dt.date) -> ColumnElement[bool]:
    """Open, not yet escalated, and past the point the rule above escalates it."""
    cutoff = subtract_working_days(today, ROUTINE_GRACE_WORKING_DAYS)
    return and_(
        overdue(today),
        WorklistTask.escalated_at.is_(None),
        or_(WorklistTask.safety_critical.is_(True), WorklistTask.due_date < cutoff),
    )


@dataclass(frozen=True)
class EscalationRun:
    """What one sweep did."""

    escalated: int
    released: int


def escalate_overdue_tasks(
    session: Session, *, now: dt.datetime, today: dt.date, limit: int = 500
) -> EscalationRun:
    """Escalate the tasks the rule says are due (once each), and hand back the tasks of people
    whose accounts are disabled; every change audited. Safe with any number of workers: each
    row moves by a guarded UPDATE, so a second worker finds nothing left to change."""
    due = list(
        session.scalars(
            select(WorklistTask.id)
            .where(escalation_due(today))
            .order_by(*list_order(today))
            .limit(limit)
        )
    )
    escalated = session.execute(
        update(WorklistTask)
        .where(WorklistTask.id.in_(due), escalation_due(today))
        .values(escalated_at=now)
        .returning(
            WorklistTask.id,
            WorklistTask.pathway_id,
            WorklistTask.reason,
            WorklistTask.due_date,
            WorklistTask.safety_critical,
        )
        .execution_options(synchronize_session=False)
    ).all()
    for task_id, pathway_id, reason, due_date, critical in escalated:
        audit.record(
            session,
            actor=SERVICE_ACTOR,
            action="worklist_task.escalated",
            entity_type="worklist_task",
            entity_id=task_id,
            pathway_id=pathway_id,
            detail={
                "reason": str(reason),
                "due_date": due_date.isoformat(),
                "safety_critical": bool(critical),
            },
        )
    # The ids first (a handful of accounts): as a subquery, SQLite scanned every open task.
    disabled = list(session.scalars(select(User.id).where(User.is_active.is_(False))))
    released = (
        session.execute(
            update(WorklistTask)
            .where(WorklistTask.owner_id.in_(disabled), WorklistTask.state == TaskState.OPEN)
            .values(owner_id=None)
            .returning(WorklistTask.id, WorklistTask.pathway_id)
            .execution_options(synchronize_session=False)
        ).all()
        if disabled
        else []
    )
    for task_id, pathway_id in released:
        audit.record(
            session,
            actor=SERVICE_ACTOR,
            action="worklist_task.assigned",
            entity_type="worklist_task",
            entity_id=task_id,
            pathway_id=pathway_id,
            detail={"owner": None, "why": "owner_disabled"},
        )
    if escalated or released:
        # Counts only: which patients is the audit's business, not the log's.
        log.info("worklist: %s task(s) escalated, %s released", len(escalated), len(released))
    return EscalationRun(escalated=len(escalated), released=len(released))


def overdue_by_reason(session: Session, *, today: dt.date) -> dict[str, int]:
    """Open tasks past their due date, per reason (for the dashboard), most first."""
    rows = session.execute(
        select(WorklistTask.reason, func.count())
        .where(overdue(today))
        .group_by(WorklistTask.reason)
        .order_by(func.count().desc(), WorklistTask.reason)
    ).all()
    return {str(reason): int(count) for reason, count in rows}
