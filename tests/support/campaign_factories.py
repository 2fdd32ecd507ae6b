"""Campaigns and what happens in them, built by hand for tests (reports, dashboards)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
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
from app.outcomes.service import make_current
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
    make_current(pathway, outcome=outcome, at=recorded_at)
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


def make_synthetic_campaign(session: Session, *, people: int = 400, seed: int = 7) -> Campaign:
    """A whole campaign of synthetic patients in which deprived areas respond less (a demo)."""
    rng = random.Random(seed)
    cohort = make_cohort(session)
    campaign = make_campaign(session, cohort=cohort, name="Trauma and orthopaedics, spring 2026")
    clinician = make_user(session)
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for n in range(people):
        decile = rng.randint(1, 10)
        language = rng.choices(["en", "pl", "ur", "so"], weights=[85, 6, 6, 3])[0]
        pathway = make_patient_pathway(
            session,
            cohort=cohort,
            imd_decile=decile if rng.random() > 0.03 else None,
            sex=rng.choice(["1", "2"]),
            ethnic_category=rng.choices("ACHJMNRZ", weights=[70, 5, 6, 5, 3, 4, 2, 5])[0],
            preferred_language=language,
            date_of_birth=dt.date(rng.randint(1935, 2004), rng.randint(1, 12), rng.randint(1, 28)),
        )
        pathway.specialty_code = rng.choice(["110", "120", "130", "101"])
        if rng.random() < 0.06:
            make_exclusion(session, pathway=pathway, rule_id=rng.choice(["deceased", "palliative"]))
            continue
        respond = 0.35 if decile <= 2 else 0.7
        respond -= 0.15 if language != "en" else 0.0
        attempts = 1 if rng.random() < respond else rng.randint(2, 3)
        answered = rng.random() < respond + 0.1
        for number in range(1, attempts + 1):
            last = number == attempts
            channel = Channel.SMS if number == 3 else Channel.VOICE
            placed = start + dt.timedelta(days=number - 1, hours=rng.randint(0, 9), minutes=n % 60)
            attempt = make_attempt(
                session,
                campaign=campaign,
                pathway=pathway,
                attempt_number=number,
                channel=channel,
                status=AttemptStatus.COMPLETED if last and answered else AttemptStatus.NO_ANSWER,
                placed_at=placed,
                answered=last and answered,
                duration_seconds=rng.randint(40, 200) if last and answered else None,
            )
        if not answered:
            make_outcome(session, campaign=campaign, pathway=pathway, outcome=Outcome.UNREACHABLE)
            continue
        if channel == Channel.SMS:
            make_answer(session, attempt=attempt)
        outcome = rng.choices(
            [Outcome.STAY, Outcome.LEAVE, Outcome.WORSENED, Outcome.UNCLEAR, Outcome.UNVERIFIED],
            weights=[70, 14, 4, 6, 6],
        )[0]
        make_outcome(session, campaign=campaign, pathway=pathway, outcome=outcome)
        if outcome == Outcome.LEAVE:
            remove = rng.random() < 0.8
            make_decision(
                session,
                campaign=campaign,
                pathway=pathway,
                decision=Decision.REMOVE if remove else Decision.KEEP,
                rtt_status_code=rng.choice(["34", "34", "35", "36"]) if remove else None,
                clinician=clinician,
            )
        elif outcome == Outcome.WORSENED:
            make_decision(
                session,
                campaign=campaign,
                pathway=pathway,
                decision=Decision.EXPEDITE,
                clinician=clinician,
            )
    return campaign
