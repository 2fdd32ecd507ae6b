"""Rounds: an answer or a clinician closes one, and closing it sets when the pathway is next due."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Decision, Outcome, ReviewItem, Role, RoundStatus
from app.outcomes.service import record_outcome
from app.review.decisions import decide, undo_removal
from app.review.item import view_item
from app.validation.rounds import current_round, open_round, rounds_of
from tests.review.conftest import MONDAY_NOON, make_user
from tests.support.factories import make_pathway


def test_a_stay_closes_the_round_validated_and_sets_the_next_due_date(db_session: Session) -> None:
    pathway = make_pathway(db_session, clock_start_date=dt.date(2026, 8, 3))
    record_outcome(
        db_session,
        pathway=pathway,
        outcome=Outcome.STAY,
        recorded={"willing_to_travel": True},
        now=MONDAY_NOON,
    )
    entry = current_round(db_session, pathway_id=pathway.id)
    assert entry is not None
    assert entry.status == RoundStatus.CLOSED
    assert entry.validated_date == MONDAY_NOON.date()
    assert entry.validated_by == "patient"
    assert entry.willing_to_travel is True
    # 23 Nov 2026 is week 16: 26 weeks (1 Feb 2027) comes before 12 weeks after today.
    assert pathway.next_due_date == dt.date(2026, 8, 3) + dt.timedelta(weeks=26)


def test_an_answer_for_a_clinician_keeps_the_round_open_until_the_decision(
    db_session: Session,
) -> None:
    alice = make_user(db_session, role=Role.CLINICIAN, name="Alice")
    pathway = make_pathway(db_session)
    record_outcome(db_session, pathway=pathway, outcome=Outcome.WORSENED, now=MONDAY_NOON)
    entry = current_round(db_session, pathway_id=pathway.id)
    assert entry is not None
    assert entry.status == RoundStatus.OPEN
    assert pathway.next_due_date is None
    item = view_item(db_session, item_id=_item_id(db_session, pathway.id), viewer=alice).item
    later = MONDAY_NOON + dt.timedelta(hours=2)
    decide(
        db_session,
        item_id=item.id,
        seen_version=item.version,
        decision=Decision.KEEP,
        by=alice,
        note="Seen in clinic",
        now=later,
    )
    entry = current_round(db_session, pathway_id=pathway.id)
    assert entry is not None
    assert entry.status == RoundStatus.CLOSED
    assert entry.decision == Decision.KEEP
    assert entry.validated_date == later.date()
    assert entry.validated_by == "clinician"
    assert pathway.next_due_date is not None


def test_an_undone_removal_reopens_its_round(db_session: Session) -> None:
    alice = make_user(db_session, role=Role.CLINICIAN, name="Alice")
    pathway = make_pathway(db_session)
    record_outcome(db_session, pathway=pathway, outcome=Outcome.LEAVE, now=MONDAY_NOON)
    item_id = _item_id(db_session, pathway.id)
    record = decide(
        db_session,
        item_id=item_id,
        seen_version=1,
        decision=Decision.REMOVE,
        rtt_status_code="35",
        by=alice,
        note="Patient asked to leave",
        now=MONDAY_NOON,
    )
    entry = current_round(db_session, pathway_id=pathway.id)
    assert entry is not None
    assert entry.status == RoundStatus.CLOSED
    assert pathway.next_due_date is None, "a removed pathway is not scheduled again"
    undo_removal(db_session, decision_id=record.id, by=alice, reason="misheard", now=MONDAY_NOON)
    entry = current_round(db_session, pathway_id=pathway.id)
    assert entry is not None
    assert entry.status == RoundStatus.OPEN
    assert entry.decision is None
    assert [r.number for r in rounds_of(db_session, pathway_id=pathway.id)] == [1]


def _item_id(session: Session, pathway_id: int) -> int:
    return session.scalars(select(ReviewItem.id).where(ReviewItem.pathway_id == pathway_id)).one()


def test_the_review_item_shows_what_the_patient_said_last_time(db_session: Session) -> None:
    alice = make_user(db_session, role=Role.CLINICIAN, name="Alice")
    pathway = make_pathway(db_session)
    record_outcome(
        db_session,
        pathway=pathway,
        outcome=Outcome.STAY,
        recorded={"willing_to_travel": True},
        now=MONDAY_NOON,
    )
    entry = current_round(db_session, pathway_id=pathway.id)
    open_round(
        db_session, pathway=pathway, now=MONDAY_NOON + dt.timedelta(weeks=12), previous=entry
    )
    record_outcome(
        db_session,
        pathway=pathway,
        outcome=Outcome.WORSENED,
        now=MONDAY_NOON + dt.timedelta(weeks=12),
    )

    view = view_item(db_session, item_id=_item_id(db_session, pathway.id), viewer=alice)

    assert [(r.number, r.outcome, r.willing_to_travel) for r in view.rounds] == [
        (2, Outcome.WORSENED, None),
        (1, Outcome.STAY, True),
    ]
