"""Reading the worklist: filtered pages of tasks with counts, one task, and the CSV.

A listing shows patient records, so every task shown is audited (``worklist_task.viewed``), on
the page, in its CSV, through the API or on the command line alike.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from app import audit
from app.csvcells import SafeWriter
from app.errors import NotFoundError
from app.models import (
    Letter,
    Pathway,
    Patient,
    TaskReason,
    TaskState,
    User,
    WorklistTask,
)
from app.phones import national_format
from app.worklist.escalation import is_overdue, list_order, overdue
from app.worklist.tasks import REASON_TITLES

VIEWED = "worklist_task.viewed"
PAGE_SIZE = 100
CSV_COLUMNS = (
    "task",
    "reason",
    "detail",
    "state",
    "due_date",
    "overdue",
    "safety_critical",
    "escalated_at",
    "owner",
    "name",
    "nhs_number",
    "mobile_phone",
    "landline_phone",
    "preferred_language",
    "pathway",
    "specialty_code",
    "outcome",
    "note",
    "created_at",
)


@dataclass(frozen=True)
class TaskFilter:
    """Which tasks to show; ``owner`` is a username, or ``""`` for tasks nobody has taken."""

    reason: TaskReason | None = None
    state: TaskState | None = TaskState.OPEN
    owner: str | None = None
    campaign_id: int | None = None
    overdue: bool = False


@dataclass(frozen=True)
class TaskLine:
    """One task with what staff need to act on it."""

    id: int
    reason: TaskReason
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

    @property
    def reason_title(self) -> str:
        """The reason in words."""
        return REASON_TITLES[self.reason]

    @property
    def nhs_number_spaced(self) -> str:
        """The NHS number as people read it: 3-3-4 digits."""
        return f"{self.nhs_number[:3]} {self.nhs_number[3:6]} {self.nhs_number[6:]}"

    def as_json(self) -> dict[str, object]:
        """The task as the API and ``--json`` give it."""
        document = dict(self.__dict__)
        document["reason_title"] = self.reason_title
        return document


@dataclass(frozen=True)
class TaskPage:
    """A page of tasks, the total under the filter, counts per reason and per state, and how
    many of the open ones under the other filters are overdue."""

    lines: list[TaskLine]
    total: int
    by_reason: dict[str, int] = field(default_factory=dict)
    by_state: dict[str, int] = field(default_factory=dict)
    overdue: int = 0


Owner = aliased(User)


def _base(filters: TaskFilter, *, today: dt.date, skip: str | None = None) -> Select[Any]:
    query = select(WorklistTask.id)
    if filters.reason is not None and skip != "reason":
        query = query.where(WorklistTask.reason == filters.reason)
    if filters.state is not None and skip != "state":
        query = query.where(WorklistTask.state == filters.state)
    if filters.owner is not None:
        if filters.owner == "":
            query = query.where(WorklistTask.owner_id.is_(None))
        else:
            owner_id = select(User.id).where(User.username == filters.owner).scalar_subquery()
            query = query.where(WorklistTask.owner_id == owner_id)
    if filters.campaign_id is not None:
        query = query.where(WorklistTask.campaign_id == filters.campaign_id)
    if filters.overdue and skip != "overdue":
        query = query.where(overdue(today))
    return query


def _counts(session: Session, filters: TaskFilter, column: Any, today: dt.date) -> dict[str, int]:
    skip = "reason" if column is WorklistTask.reason else "state"
    ids = _base(filters, today=today, skip=skip).subquery()
    rows = session.execute(
        select(column, func.count()).join(ids, ids.c.id == WorklistTask.id).group_by(column)
    ).all()
    return {str(getattr(key, "value", key)): int(count) for key, count in rows}


def _lines(session: Session, ids: list[int], *, today: dt.date) -> list[TaskLine]:
    rows = session.execute(
        select(WorklistTask, Pathway, Patient, Owner.username, Letter)
        .join(Pathway, Pathway.id == WorklistTask.pathway_id)
        .join(Patient, Patient.id == WorklistTask.patient_id)
        .outerjoin(Owner, Owner.id == WorklistTask.owner_id)
        .outerjoin(Letter, Letter.id == WorklistTask.letter_id)
        .where(WorklistTask.id.in_(ids))
    ).all()
    by_id = {row[0].id: row for row in rows}
    lines = []
    for task_id in ids:
        task, pathway, patient, owner, letter = by_id[task_id]
        lines.append(
            TaskLine(
                id=task.id,
                reason=task.reason,
                detail=task.detail,
                state=task.state,
                due_date=task.due_date,
                overdue=is_overdue(task, today=today),
                safety_critical=task.safety_critical,
                escalated_at=task.escalated_at,
                owner=owner,
                outcome=task.outcome,
                note=task.note,
                pathway_id=pathway.id,
                pathway_reference=pathway.pathway_id,
                specialty_code=pathway.specialty_code,
                campaign_id=task.campaign_id,
                name=f"{patient.given_name} {patient.family_name}",
                nhs_number=patient.nhs_number,
                mobile_phone=patient.mobile_phone,
                landline_phone=patient.landline_phone,
                preferred_language=patient.preferred_language,
                interpreter_required=patient.interpreter_required,
                letter_id=letter.id if letter else None,
                letter_kind=letter.kind.value if letter else None,
                letter_sent_at=letter.sent_at if letter else None,
                created_at=task.created_at,
                closed_at=task.closed_at,
            )
        )
    return lines


def record_views(session: Session, *, actor: User | str, lines: Iterable[TaskLine]) -> None:
    """Audit that ``actor`` was shown these tasks (and so these patients)."""
    for line in lines:
        audit.record(
            session,
            actor=actor,
            action=VIEWED,
            entity_type="worklist_task",
            entity_id=line.id,
            pathway_id=line.pathway_id,
        )


def list_tasks(
    session: Session,
    *,
    filters: TaskFilter,
    actor: User | str,
    today: dt.date,
    limit: int | None = PAGE_SIZE,
    offset: int = 0,
) -> TaskPage:
    """Tasks under ``filters``, overdue and safety-critical first, then soonest due, with counts
    (every task shown is audited)."""
    query = _base(filters, today=today)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    late = _base(filters, today=today, skip="overdue").where(overdue(today)).subquery()
    overdue_count = int(session.scalar(select(func.count()).select_from(late)) or 0)
    ordered = query.order_by(*list_order(today)).offset(offset)
    if limit is not None:
        ordered = ordered.limit(limit)
    lines = _lines(session, list(session.scalars(ordered)), today=today)
    record_views(session, actor=actor, lines=lines)
    return TaskPage(
        lines=lines,
        total=total,
        by_reason=_counts(session, filters, WorklistTask.reason, today),
        by_state=_counts(session, filters, WorklistTask.state, today),
        overdue=overdue_count,
    )


def get_task(session: Session, *, task_id: int, actor: User | str, today: dt.date) -> TaskLine:
    """One task (audited)."""
    if session.get(WorklistTask, task_id) is None:
        raise NotFoundError("No such worklist task.")
    [line] = _lines(session, [task_id], today=today)
    record_views(session, actor=actor, lines=[line])
    return line


def tasks_csv(lines: Iterable[TaskLine]) -> str:
    """The tasks as CSV for a spreadsheet (see ``app/csvcells.py``); phones as staff dial them."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        writer.writerow(
            (
                line.id,
                line.reason.value,
                line.detail or "",
                line.state.value,
                line.due_date.isoformat(),
                "yes" if line.overdue else "",
                "yes" if line.safety_critical else "",
                line.escalated_at.isoformat() if line.escalated_at else "",
                line.owner or "",
                line.name,
                line.nhs_number_spaced,
                national_format(line.mobile_phone) if line.mobile_phone else "",
                national_format(line.landline_phone) if line.landline_phone else "",
                line.preferred_language,
                line.pathway_reference,
                line.specialty_code,
                line.outcome or "",
                line.note or "",
                line.created_at.isoformat(),
            )
        )
    return out.getvalue()
