"""Ad hoc campaigns and rounds: a second campaign asks again; the first does not reach into it."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.campaigns.eligibility import Block, block_for_attempt
from app.campaigns.planning import plan_campaign
from app.campaigns.scheduled import plan_follow_ups
from app.models import AttemptStatus, ContactAttempt, Outcome, Pathway, Patient
from app.outcomes.service import record_outcome
from app.validation.rounds import rounds_of
from tests.campaigns.support import ALWAYS_OPEN
from tests.support.campaign_factories import make_campaign
from tests.support.factories import make_cohort, make_pathway

START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
LATER = START + dt.timedelta(weeks=13)


def test_a_second_campaign_asks_again_and_the_first_plans_nothing_in_its_round(
    db_session: Session,
) -> None:
    cohort = make_cohort(db_session)
    stayed = make_pathway(db_session, cohort=cohort, clock_start_date=dt.date(2025, 6, 2))
    unreachable = make_pathway(db_session, cohort=cohort, clock_start_date=dt.date(2025, 6, 2))
    first = make_campaign(
        db_session,
        cohort=cohort,
        calling_windows=ALWAYS_OPEN,
        attempt_policy={"calls": 1, "sms": False},
    )
    assert plan_campaign(db_session, campaign=first, now=START, rng=random.Random(1)).planned == 2
    attempts = {a.pathway_id: a for a in db_session.scalars(select(ContactAttempt))}
    attempts[stayed.id].status = AttemptStatus.COMPLETED
    record_outcome(db_session, pathway=stayed, outcome=Outcome.STAY, now=START)
    attempts[unreachable.id].status = AttemptStatus.NO_ANSWER
    assert plan_follow_ups(db_session, now=START + dt.timedelta(hours=1)) == 0
    assert unreachable.outcome == Outcome.UNREACHABLE

    second = make_campaign(db_session, cohort=cohort, calling_windows=ALWAYS_OPEN)
    report = plan_campaign(db_session, campaign=second, now=LATER, rng=random.Random(2))

    assert report.planned == 2, "a stay 13 weeks ago and an unreachable patient are both asked"
    assert [r.number for r in rounds_of(db_session, pathway_id=stayed.id)] == [2, 1]
    # The first campaign's unanswered call belongs to a closed round: nothing follows it up.
    assert plan_follow_ups(db_session, now=LATER + dt.timedelta(hours=1)) == 0
    assert outcome_of(unreachable) == Outcome.PENDING


def outcome_of(pathway: Pathway) -> Outcome:
    """The pathway's current status (its latest round's answer)."""
    return pathway.outcome


def test_a_campaign_does_not_ask_twice_in_a_round(db_session: Session) -> None:
    cohort = make_cohort(db_session)
    leaving = make_pathway(db_session, cohort=cohort)
    record_outcome(db_session, pathway=leaving, outcome=Outcome.LEAVE, now=START)
    campaign = make_campaign(db_session, cohort=cohort, calling_windows=ALWAYS_OPEN)

    report = plan_campaign(db_session, campaign=campaign, now=LATER)

    assert (report.planned, report.skipped) == (0, {"answered_this_round": 1})


def test_an_attempt_left_queued_from_a_closed_round_is_not_placed_in_the_next(
    db_session: Session,
) -> None:
    cohort = make_cohort(db_session)
    pathway = make_pathway(db_session, cohort=cohort, clock_start_date=dt.date(2025, 6, 2))
    first = make_campaign(db_session, cohort=cohort, calling_windows=ALWAYS_OPEN)
    plan_campaign(db_session, campaign=first, now=START, rng=random.Random(1))
    # The first campaign was paused with its call still queued; the patient said "stay" another
    # way, which closed round 1; 13 weeks later a second campaign opens round 2.
    left_queued = db_session.scalars(select(ContactAttempt)).one()
    record_outcome(db_session, pathway=pathway, outcome=Outcome.STAY, now=START)
    second = make_campaign(db_session, cohort=cohort, calling_windows=ALWAYS_OPEN)
    assert plan_campaign(db_session, campaign=second, now=LATER, rng=random.Random(2)).planned == 1
    current = db_session.scalars(
        select(ContactAttempt).where(ContactAttempt.campaign_id == second.id)
    ).one()
    patient = db_session.get(Patient, pathway.patient_id)
    assert patient is not None
    today = LATER.replace(hour=0)

    def block(attempt: ContactAttempt) -> Block | None:
        return block_for_attempt(
            db_session, attempt=attempt, pathway=pathway, patient=patient, today_starts_at=today
        )

    assert block(left_queued) == Block.ROUND_CLOSED
    assert Block.ROUND_CLOSED.final, "waiting cannot help: the attempt is cancelled"
    assert block(current) is None, "the current round's own call goes ahead"
