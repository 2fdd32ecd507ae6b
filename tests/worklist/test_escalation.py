"""A promised follow-up that nobody does is escalated (hazard H16): once, audited, safety-critical
tasks first and soonest; and a task held by someone who has left goes back to the team."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Outcome, Pathway, TaskReason, TaskState, User, WorklistTask
from app.outcomes.service import record_outcome
from app.users.service import deactivate_user
from app.worklist.escalation import escalate_overdue_tasks, is_safety_critical
from app.worklist.listing import TaskFilter, list_tasks
from app.worklist.service import assign_task, complete_task
from tests.support.factories import make_pathway
from tests.worklist.conftest import MONDAY_NOON, open_tasks

# Tasks opened on Monday 23 November 2026: a death is due Tuesday 24th, an unverified call
# (5 working days) Monday 30th.
WEDNESDAY_25TH = dt.date(2026, 11, 25)
TUESDAY_1ST = dt.date(2026, 12, 1)
THURSDAY_3RD = dt.date(2026, 12, 3)


def _task(
    session: Session, outcome: Outcome, recorded: dict[str, object] | None = None
) -> WorklistTask:
    pathway = make_pathway(session)
    record_outcome(session, pathway=pathway, outcome=outcome, recorded=recorded, now=MONDAY_NOON)
    [task] = [t for t in open_tasks(session, pathway) if t.reason != TaskReason.LETTER]
    return task


def _sweep(session: Session, today: dt.date) -> int:
    now = dt.datetime.combine(today, dt.time(9), tzinfo=dt.UTC)
    return escalate_overdue_tasks(session, now=now, today=today).escalated


def _escalations(session: Session, task: WorklistTask) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "worklist_task.escalated",
                AuditEvent.entity_id == str(task.id),
            )
        )
    )


@pytest.mark.parametrize(
    ("outcome", "recorded", "critical"),
    [
        (Outcome.CALLBACK_REQUESTED, {"reported_deceased": True}, True),
        (Outcome.UNCLEAR, {}, True),
        (Outcome.CALLBACK_REQUESTED, {"condition": "worse", "red_flag": True}, True),
        (Outcome.CALLBACK_REQUESTED, {"condition": "same"}, False),
        (Outcome.UNVERIFIED, {}, False),
        (Outcome.UNREACHABLE, {}, False),
        (Outcome.OPTED_OUT, {}, False),
    ],
)
def test_the_task_knows_whether_it_is_safety_critical(
    db_session: Session, outcome: Outcome, recorded: dict[str, object], critical: bool
) -> None:
    assert _task(db_session, outcome, recorded).safety_critical is critical


def test_the_rule_names_a_clinicians_call_back_safety_critical() -> None:
    assert is_safety_critical(TaskReason.CLINICIAN_CALL_BACK)
    assert not is_safety_critical(TaskReason.LETTER, {"red_flag": True})


def test_a_routine_overdue_task_is_escalated_once_after_its_grace_and_audited(
    db_session: Session,
) -> None:
    task = _task(db_session, Outcome.UNVERIFIED)
    assert task.due_date == dt.date(2026, 11, 30)

    assert _sweep(db_session, TUESDAY_1ST) == 0  # overdue, but within the grace
    assert _sweep(db_session, THURSDAY_3RD) == 1
    assert _sweep(db_session, THURSDAY_3RD) == 0  # once
    db_session.refresh(task)
    assert task.escalated_at is not None
    [event] = _escalations(db_session, task)
    assert event.actor == "service"
    assert event.detail == {
        "reason": "unverified",
        "due_date": "2026-11-30",
        "safety_critical": False,
    }


def test_a_safety_critical_task_is_escalated_on_its_first_overdue_day(
    db_session: Session,
) -> None:
    death = _task(db_session, Outcome.CALLBACK_REQUESTED, {"reported_deceased": True})
    routine = _task(db_session, Outcome.CALLBACK_REQUESTED)
    assert death.due_date == routine.due_date - dt.timedelta(days=1)

    assert _sweep(db_session, death.due_date) == 0  # due today is not overdue
    assert _sweep(db_session, WEDNESDAY_25TH) == 1
    db_session.refresh(death)
    db_session.refresh(routine)
    assert death.escalated_at is not None
    assert routine.escalated_at is None


def test_a_closed_task_is_never_escalated(db_session: Session, erin: User) -> None:
    task = _task(db_session, Outcome.UNREACHABLE)
    complete_task(
        db_session,
        task_id=task.id,
        outcome="validated_elsewhere",
        note="Seen in clinic",
        actor=erin,
    )
    _sweep(db_session, THURSDAY_3RD + dt.timedelta(days=30))  # its letter's task is escalated
    db_session.refresh(task)
    assert task.escalated_at is None
    assert _escalations(db_session, task) == []


def test_overdue_and_safety_critical_tasks_come_first(db_session: Session) -> None:
    unverified = _task(db_session, Outcome.UNVERIFIED)  # due 30 Nov
    unreachable = _task(db_session, Outcome.UNREACHABLE)  # due 7 Dec, routine
    unclear = _task(db_session, Outcome.UNCLEAR)  # due 30 Nov, safety-critical
    call_back = _task(db_session, Outcome.CALLBACK_REQUESTED)  # due 25 Nov, routine
    worse = _task(db_session, Outcome.CALLBACK_REQUESTED, {"condition": "worse"})  # 25 Nov

    page = list_tasks(
        db_session,
        filters=TaskFilter(reason=None),
        actor="test",
        today=dt.date(2026, 11, 27),
    )

    tasks = [line.id for line in page.lines if line.reason != TaskReason.LETTER]
    assert tasks == [worse.id, call_back.id, unclear.id, unverified.id, unreachable.id]
    assert page.overdue == 2
    overdue_only = list_tasks(
        db_session,
        filters=TaskFilter(overdue=True),
        actor="test",
        today=dt.date(2026, 11, 27),
    )
    assert [line.id for line in overdue_only.lines] == [worse.id, call_back.id]
    assert all(line.overdue for line in overdue_only.lines)


def test_a_task_held_by_someone_whose_account_is_disabled_goes_back_to_the_team(
    db_session: Session, erin: User
) -> None:
    task = _task(db_session, Outcome.UNREACHABLE)
    assign_task(db_session, task_id=task.id, owner=erin.username, actor=erin)
    now = MONDAY_NOON + dt.timedelta(hours=1)
    assert escalate_overdue_tasks(db_session, now=now, today=now.date()).released == 0

    deactivate_user(db_session, user=erin, actor="admin")
    run = escalate_overdue_tasks(db_session, now=now, today=now.date())

    assert run.released == 1
    db_session.refresh(task)
    assert (task.owner_id, task.state) == (None, TaskState.OPEN)
    released = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "worklist_task.assigned", AuditEvent.entity_id == str(task.id)
        )
    ).all()
    assert released[-1].detail == {"owner": None, "why": "owner_disabled"}
    assert escalate_overdue_tasks(db_session, now=now, today=now.date()).released == 0


def test_a_later_red_flag_makes_an_open_call_back_safety_critical(db_session: Session) -> None:
    task = _task(db_session, Outcome.CALLBACK_REQUESTED)
    pathway = db_session.get(Pathway, task.pathway_id)
    assert pathway is not None and not task.safety_critical
    record_outcome(
        db_session,
        pathway=pathway,
        outcome=Outcome.CALLBACK_REQUESTED,
        recorded={"red_flag": True},
        now=MONDAY_NOON,
    )
    db_session.refresh(task)
    assert task.safety_critical
