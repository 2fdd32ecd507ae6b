"""Done when: one pathway through three rounds 12 weeks apart, every round in export and report.

Each round goes through the real daily selection (``run_schedule``, the index-backed query) and
the real conversation engine (the approved script's steps, keypad answers); the clinician decides
through ``decide``. The provider leg is left out: the dispatcher's own tests cover it. The
outcome's clock is the simulated one (the engine records outcomes at ``utcnow()``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.campaigns.schedules import create_schedule, run_schedule
from app.config import Settings
from app.conversations.context import ConversationContext
from app.conversations.dialogue import Spoken, take_turn
from app.flows import load_registry
from app.flows.conversation import Heard
from app.models import (
    AttemptStatus,
    ContactAttempt,
    Decision,
    Outcome,
    Pathway,
    ReviewItem,
    ReviewStatus,
    Role,
    RoundStatus,
)
from app.reports.rounds import round_breakdowns
from app.review.decisions import decide
from app.review.export import export_outcomes
from app.validation.rounds import rounds_of
from tests.campaigns.support import ALWAYS_OPEN
from tests.review.conftest import make_user
from tests.support.factories import make_cohort, make_pathway

ROUND_ONE = dt.datetime(2026, 3, 30, 10, 0, tzinfo=dt.UTC)
TWELVE_WEEKS = dt.timedelta(weeks=12)
DATE_OF_BIRTH = "14031956"  # the factory patient's


def _converse(session: Session, context: ConversationContext, keys: list[str]) -> None:
    """Answer the planned call of the pathway key by key, as a patient on the keypad would."""
    attempt = session.scalars(
        select(ContactAttempt)
        .where(ContactAttempt.status == AttemptStatus.PLANNED)
        .order_by(ContactAttempt.id.desc())
    ).first()
    assert attempt is not None, "the daily selection planned no call"
    attempt.status = AttemptStatus.IN_PROGRESS
    assert isinstance(take_turn(session, attempt=attempt, context=context, channel="voice"), Spoken)
    for key in keys:
        conversation = attempt.conversation or {}
        turn = take_turn(
            session,
            attempt=attempt,
            context=context,
            channel="voice",
            heard=Heard(kind="dtmf", text=key),
            at=(conversation["step"], int(conversation["turn"])),
        )
        assert isinstance(turn, Spoken)
    attempt.status = AttemptStatus.COMPLETED


def outcome_of(pathway: Pathway) -> Outcome:
    """The pathway's current status (its latest round's outcome)."""
    return pathway.outcome


def _open_item(session: Session, pathway: Pathway) -> ReviewItem:
    return session.scalars(
        select(ReviewItem).where(
            ReviewItem.pathway_id == pathway.id, ReviewItem.status == ReviewStatus.OPEN
        )
    ).one()


def test_one_pathway_through_three_rounds_is_in_the_export_and_the_report(
    db_session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [ROUND_ONE]
    monkeypatch.setattr("app.outcomes.service.utcnow", lambda: clock[0])
    alice = make_user(db_session, role=Role.CLINICIAN, name="Alice")
    registry = load_registry(settings.flows_path)
    context = ConversationContext(
        registry=registry,
        public_base_url="https://waitlist.example.nhs.uk",
        organisation_name="Example Hospital",
        callback_number="0113 496 0000",
    )
    cohort = make_cohort(db_session)
    # Twelve weeks of waiting on the first day: the first milestone falls due that day.
    pathway = make_pathway(
        db_session, cohort=cohort, clock_start_date=(ROUND_ONE - TWELVE_WEEKS).date(), priority="P4"
    )
    schedule = create_schedule(
        db_session,
        registry=registry,
        name="Orthopaedics rolling validation",
        cohort_id=cohort.id,
        flow_id="standard-validation",
        provider_name="simulator",
        account_calls_per_second=5.0,
        calling_windows=ALWAYS_OPEN,
        simulated=True,
        created_by="test",
        now=ROUND_ONE,
    )
    assert pathway.next_due_date == ROUND_ONE.date()

    # Round 1: still needed, the same, would travel: the patient's answer validates it.
    first = run_schedule(db_session, schedule=schedule, now=ROUND_ONE)
    assert first.planned == 1
    _converse(db_session, context, [DATE_OF_BIRTH, "1", "2", "1"])
    assert outcome_of(pathway) == Outcome.STAY
    assert pathway.next_due_date == (ROUND_ONE + TWELVE_WEEKS).date()

    # Nothing more is due in between: never twice in a round, nor within the interval.
    quiet = run_schedule(db_session, schedule=schedule, now=ROUND_ONE + dt.timedelta(weeks=6))
    assert quiet.planned == 0

    # Round 2, twelve weeks on: worse, and a clinician expedites.
    second_at = ROUND_ONE + TWELVE_WEEKS
    clock[0] = second_at
    assert run_schedule(db_session, schedule=schedule, now=second_at).planned == 1
    _converse(db_session, context, [DATE_OF_BIRTH, "1", "1"])
    assert outcome_of(pathway) == Outcome.WORSENED
    item = _open_item(db_session, pathway)
    decide(
        db_session,
        item_id=item.id,
        seen_version=item.version,
        decision=Decision.EXPEDITE,
        new_priority="P2",
        note="Worse since referral; brought forward.",
        by=alice,
        now=second_at + dt.timedelta(hours=3),
    )

    # Round 3, twelve weeks on again: no longer needed, and a clinician removes.
    third_at = second_at + TWELVE_WEEKS
    clock[0] = third_at
    assert run_schedule(db_session, schedule=schedule, now=third_at).planned == 1
    _converse(db_session, context, [DATE_OF_BIRTH, "2"])
    assert outcome_of(pathway) == Outcome.LEAVE
    item = _open_item(db_session, pathway)
    decide(
        db_session,
        item_id=item.id,
        seen_version=item.version,
        decision=Decision.REMOVE,
        rtt_status_code="35",
        note="Had the operation privately.",
        by=alice,
        now=third_at + dt.timedelta(hours=3),
    )
    assert pathway.next_due_date is None, "a removed pathway is not asked again"

    history = rounds_of(db_session, pathway_id=pathway.id)
    assert [(r.number, r.status, r.outcome, r.decision) for r in history] == [
        (3, RoundStatus.CLOSED, Outcome.LEAVE, Decision.REMOVE),
        (2, RoundStatus.CLOSED, Outcome.WORSENED, Decision.EXPEDITE),
        (1, RoundStatus.CLOSED, Outcome.STAY, None),
    ]

    out = io.StringIO()
    report = export_outcomes(db_session, out=out, actor=alice, now=third_at + dt.timedelta(days=15))
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert report.rows == 3
    assert [
        (r["round"], r["patient_answer"], r["clinical_decision"], r["validated_date"]) for r in rows
    ] == [
        ("1", "stay", "", ROUND_ONE.date().isoformat()),
        ("2", "worsened", "expedite", second_at.date().isoformat()),
        ("3", "leave", "remove", ""),
    ]
    assert rows[0]["willing_to_travel"] == "yes"
    assert all(r["contacts"] == "1" for r in rows)

    rounds = round_breakdowns(db_session, cohort_id=cohort.id)
    trend = rounds.trend
    assert [(t.round, t.stay, t.worsened, t.leave, t.validated) for t in trend] == [
        (1, 1, 0, 0, 1),
        (2, 0, 1, 0, 1),
        (3, 0, 0, 1, 0),
    ]
    [aid] = rounds.mutual_aid
    assert (aid.specialty_code, aid.asked, aid.willing) == (pathway.specialty_code, 1, 1)
