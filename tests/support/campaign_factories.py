"""Campaigns and what happens in them, built by hand for tests (reports, dashboards)."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from typing import Any

from sqlalchemy.orm import Session

from app.models import (
    Answer,
    AttemptStatus,
    CallScript,
    Campaign,
    CampaignStatus,
    Channel,
    ClinicalDecision,
    Cohort,
    ContactAttempt,
    Decision,
    Exclusion,
    Outcome,
    Pathway,
    PathwayOutcome,
    Patient,
    ReviewItem,
    ReviewStatus,
    Role,
    User,
)
from tests.support.factories import make_cohort, make_pathway

_sequence = itertools.count(1)
CAMPAIGN_START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def make_call_script(session: Session) -> CallScript:
    """An approved call script version."""
    n = next(_sequence)
    script = CallScript(
        flow_id="standard-validation",
        version=n,
        content_hash=f"{n:064d}",
        title="Validation",
        language="en-GB",
        content="spec: 1",
        approved_by="Dr A Example",
        approved_at=CAMPAIGN_START,
    )
    session.add(script)
    session.flush()
    return script


def make_campaign(session: Session, *, cohort: Cohort | None = None, **fields: Any) -> Campaign:
    """A running campaign over ``cohort`` (a new empty cohort if none is given)."""
    campaign = Campaign(
        name=fields.pop("name", f"Campaign {next(_sequence)}"),
        cohort_id=(cohort or make_cohort(session)).id,
        call_script_id=make_call_script(session).id,
        status=fields.pop("status", CampaignStatus.RUNNING),
        started_at=fields.pop("started_at", CAMPAIGN_START),
        created_at=fields.pop("created_at", CAMPAIGN_START),
        **fields,
    )
    session.add(campaign)
    session.flush()
    return campaign


def make_attempt(
    session: Session,
    *,
    campaign: Campaign,
    pathway: Pathway,
    attempt_number: int = 1,
    channel: Channel = Channel.VOICE,
    status: AttemptStatus = AttemptStatus.COMPLETED,
    placed_at: dt.datetime | None = CAMPAIGN_START,
    answered: bool = False,
    duration_seconds: int | None = None,
) -> ContactAttempt:
    """One contact attempt; ``answered`` sets ``answered_at`` a few seconds after placing."""
    attempt = ContactAttempt(
        campaign_id=campaign.id,
        pathway_id=pathway.id,
        patient_id=pathway.patient_id,
        attempt_number=attempt_number,
        channel=channel,
        status=status,
        token=secrets.token_urlsafe(16),
        due_at=placed_at or CAMPAIGN_START,
        placed_at=placed_at,
        answered_at=(placed_at + dt.timedelta(seconds=5)) if answered and placed_at else None,
        duration_seconds=duration_seconds,
    )
    session.add(attempt)
    session.flush()
    return attempt


def make_answer(session: Session, *, attempt: ContactAttempt, turn: int = 1) -> Answer:
    """One recorded answer in ``attempt``'s conversation."""
    answer = Answer(
        contact_attempt_id=attempt.id,
        pathway_id=attempt.pathway_id,
        step="still_needed",
        turn=turn,
        prompt="Do you still need it?",
        input_kind="sms" if attempt.channel == Channel.SMS else "dtmf",
        raw_input="1",
        interpretation="yes",
        flow_id="standard-validation",
        flow_version=1,
        flow_hash="0" * 64,
        answered_at=CAMPAIGN_START,
    )
    session.add(answer)
    session.flush()
    return answer


def make_outcome(
    session: Session,
    *,
    campaign: Campaign,
    pathway: Pathway,
    outcome: Outcome,
    recorded_at: dt.datetime = CAMPAIGN_START,
) -> PathwayOutcome:
    """An outcome in the pathway's history for ``campaign`` (the newest one is current)."""
    entry = PathwayOutcome(
        pathway_id=pathway.id, campaign_id=campaign.id, outcome=outcome, recorded_at=recorded_at
    )
    session.add(entry)
    pathway.outcome = outcome
    pathway.outcome_at = recorded_at
    session.flush()
    return entry


def make_exclusion(session: Session, *, pathway: Pathway, rule_id: str) -> Exclusion:
    """``pathway`` excluded by ``rule_id``."""
    exclusion = Exclusion(
        pathway_id=pathway.id, rule_id=rule_id, reason=f"excluded by {rule_id}", rule_set_hash="h"
    )
    session.add(exclusion)
    session.flush()
    return exclusion


def make_user(session: Session, *, role: Role = Role.CLINICIAN) -> User:
    """A user with ``role``."""
    n = next(_sequence)
    user = User(username=f"user{n}", full_name=f"Test User {n}", role=role)
    session.add(user)
    session.flush()
    return user


def make_review_item(
    session: Session,
    *,
    campaign: Campaign | None,
    pathway: Pathway,
    reason: str = "leave",
    opened_at: dt.datetime = CAMPAIGN_START,
    due_at: dt.datetime | None = None,
) -> ReviewItem:
    """An open review item for ``pathway``."""
    item = ReviewItem(
        pathway_id=pathway.id,
        campaign_id=campaign.id if campaign else None,
        reason=reason,
        rank=1,
        priority_rank=9,
        specialty_code=pathway.specialty_code,
        provider_code=pathway.provider_code,
        clock_start_date=pathway.clock_start_date,
        opened_at=opened_at,
        due_at=due_at or opened_at + dt.timedelta(days=14),
    )
    session.add(item)
    session.flush()
    return item


def make_decision(
    session: Session,
    *,
    campaign: Campaign,
    pathway: Pathway,
    decision: Decision,
    rtt_status_code: str | None = None,
    clinician: User | None = None,
    undone: bool = False,
) -> ClinicalDecision:
    """A decided review item for ``pathway`` raised by ``campaign``."""
    item = make_review_item(session, campaign=campaign, pathway=pathway)
    item.status = ReviewStatus.DECIDED
    made = ClinicalDecision(
        review_item_id=item.id,
        pathway_id=pathway.id,
        decision=decision,
        rtt_status_code=rtt_status_code,
        decided_by_id=(clinician or make_user(session)).id,
        decided_at=CAMPAIGN_START,
        undone_at=CAMPAIGN_START if undone else None,
    )
    session.add(made)
    session.flush()
    return made


def make_patient_pathway(session: Session, *, cohort: Cohort, **patient: Any) -> Pathway:
    """A pathway whose patient has the given details (any patient column, date of birth too)."""
    pathway = make_pathway(session, cohort=cohort)
    person = session.get_one(Patient, pathway.patient_id)
    for name, value in patient.items():
        setattr(person, name, value)
    session.flush()
    return pathway
