"""Nobody in a dead end: an unverified call is tried again at another time of day, then the
worklist has the patient; the unreachable get a task and a letter."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.campaigns import service
from app.campaigns.planning import band_of
from app.campaigns.scheduled import expire_sms_replies, plan_follow_ups, plan_identity_retries
from app.campaigns.windows import parse_windows
from app.models import (
    AttemptStatus,
    CampaignStatus,
    ContactAttempt,
    Letter,
    LetterKind,
    Outcome,
    Pathway,
    TaskReason,
    TaskState,
    WorklistTask,
)
from app.outcomes.service import record_outcome
from tests.campaigns.test_campaigns import MONDAY_8AM, create

WINDOWS = parse_windows(None)


def _running(session: Session) -> tuple[int, Pathway]:
    campaign_id = create(session, pathways=1)
    service.start_campaign(session, campaign_id=campaign_id, actor="alice", now=MONDAY_8AM)
    service.transition(session, campaign_id=campaign_id, to=CampaignStatus.RUNNING, actor="w")
    campaign = service.get_campaign(session, campaign_id=campaign_id)
    pathway = session.scalars(select(Pathway).where(Pathway.cohort_id == campaign.cohort_id)).one()
    return campaign_id, pathway


def _latest(session: Session, campaign_id: int) -> ContactAttempt:
    latest = session.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.campaign_id == campaign_id)
        .order_by(ContactAttempt.attempt_number.desc())
    ).first()
    assert latest is not None
    return latest


def _ends(session: Session, attempt: ContactAttempt, pathway: Pathway, outcome: Outcome) -> None:
    attempt.status = AttemptStatus.COMPLETED
    attempt.dispatched_at = attempt.due_at
    attempt.conversation = {"outcome": outcome.value}
    session.flush()
    record_outcome(
        session,
        pathway=pathway,
        outcome=outcome,
        campaign_id=attempt.campaign_id,
        contact_attempt_id=attempt.id,
        now=attempt.due_at,
    )


def _tasks(session: Session, pathway: Pathway) -> list[WorklistTask]:
    return list(session.scalars(select(WorklistTask).where(WorklistTask.pathway_id == pathway.id)))


def test_an_unverified_call_is_tried_once_more_at_another_time_then_left_to_the_worklist(
    db_session: Session,
) -> None:
    campaign_id, pathway = _running(db_session)
    first = _latest(db_session, campaign_id)
    _ends(db_session, first, pathway, Outcome.UNVERIFIED)
    [task] = _tasks(db_session, pathway)
    assert (task.reason, task.state) == (TaskReason.UNVERIFIED, TaskState.OPEN)

    later = first.due_at + dt.timedelta(minutes=5)
    assert plan_identity_retries(db_session, now=later, rng=random.Random(3)) == 1
    second = _latest(db_session, campaign_id)
    assert second.attempt_number == 2 and second.status == AttemptStatus.PLANNED
    assert WINDOWS.local_date(second.due_at) > WINDOWS.local_date(first.due_at)
    assert band_of(WINDOWS, second.due_at) != band_of(WINDOWS, first.due_at)
    assert plan_identity_retries(db_session, now=later, rng=random.Random(3)) == 0

    _ends(db_session, second, pathway, Outcome.UNVERIFIED)
    assert plan_identity_retries(db_session, now=second.due_at, rng=random.Random(3)) == 0
    [task] = _tasks(db_session, pathway)
    assert task.state == TaskState.OPEN  # the worklist has the patient now


def test_an_answer_on_the_second_call_closes_the_unverified_task(db_session: Session) -> None:
    campaign_id, pathway = _running(db_session)
    _ends(db_session, _latest(db_session, campaign_id), pathway, Outcome.UNVERIFIED)
    plan_identity_retries(db_session, now=MONDAY_8AM + dt.timedelta(hours=2))
    _ends(db_session, _latest(db_session, campaign_id), pathway, Outcome.STAY)
    [task] = _tasks(db_session, pathway)
    assert (task.state, task.outcome) == (TaskState.CANCELLED, "answered_later")


def test_the_unreachable_land_on_the_worklist_with_a_letter_to_send(db_session: Session) -> None:
    campaign_id, pathway = _running(db_session)
    for _ in range(3):
        latest = _latest(db_session, campaign_id)
        latest.status = AttemptStatus.NO_ANSWER
        latest.dispatched_at = latest.due_at
        db_session.flush()
        plan_follow_ups(db_session, now=latest.due_at + dt.timedelta(minutes=1))
    sms = _latest(db_session, campaign_id)
    sms.status, sms.placed_at = AttemptStatus.PLACED, sms.due_at
    db_session.flush()
    expire_sms_replies(db_session, now=sms.due_at + dt.timedelta(hours=49))

    reasons = {task.reason for task in _tasks(db_session, pathway)}
    assert reasons == {TaskReason.UNREACHABLE, TaskReason.LETTER}
    letter = db_session.scalars(select(Letter).where(Letter.pathway_id == pathway.id)).one()
    assert letter.kind == LetterKind.NON_RESPONDER
