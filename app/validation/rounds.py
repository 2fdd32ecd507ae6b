"""Validation rounds: opened when a pathway falls due, closed by an answer or a clinician.

A round is closed by an answer that needs no clinician (stay, unreachable, opted out, ...) or by
a clinical decision on the answers that do (leave, worsened, unclear, call back). Closing it sets
the pathway's next due date by its cohort's rule, so a patient is always asked again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.db import in_batches
from app.models import (
    ClinicalDecision,
    Decision,
    Outcome,
    Pathway,
    PathwayOutcome,
    RoundStatus,
    ValidationRound,
    ValidationSchedule,
)
from app.validation.rules import DueRule

# Answers that validate the pathway without a clinician: the patient still needs treatment.
VALIDATING_OUTCOMES = frozenset({Outcome.STAY})
# Decisions that validate the pathway (it stays on the list, with the date recorded).
VALIDATING_DECISIONS = frozenset({Decision.KEEP, Decision.EXPEDITE})


def current_round(session: Session, *, pathway_id: int) -> ValidationRound | None:
    """The pathway's latest round (its current status), or None before its first."""
    return session.scalars(
        select(ValidationRound)
        .where(ValidationRound.pathway_id == pathway_id)
        .order_by(ValidationRound.number.desc())
        .limit(1)
    ).one_or_none()


def current_rounds(session: Session, pathway_ids: Iterable[int]) -> dict[int, ValidationRound]:
    """The latest round of each pathway (one query per thousand pathways)."""
    ids = list(pathway_ids)
    found: dict[int, ValidationRound] = {}
    for chunk in in_batches(ids):
        latest = (
            select(ValidationRound.pathway_id, func.max(ValidationRound.number).label("number"))
            .where(ValidationRound.pathway_id.in_(chunk))
            .group_by(ValidationRound.pathway_id)
            .subquery()
        )
        for entry in session.scalars(
            select(ValidationRound).join(
                latest,
                (latest.c.pathway_id == ValidationRound.pathway_id)
                & (latest.c.number == ValidationRound.number),
            )
        ):
            found[entry.pathway_id] = entry
    return found


def rounds_of(session: Session, *, pathway_id: int) -> list[ValidationRound]:
    """Every round of a pathway, newest first: what the patient said each time."""
    return list(
        session.scalars(
            select(ValidationRound)
            .where(ValidationRound.pathway_id == pathway_id)
            .order_by(ValidationRound.number.desc())
        )
    )


def last_validated(session: Session, *, pathway: Pathway) -> dt.date | None:
    """The latest validation by the service or by staff (the hospital's extract), if any."""
    ours = session.scalar(
        select(func.max(ValidationRound.validated_date)).where(
            ValidationRound.pathway_id == pathway.id
        )
    )
    dates = [d for d in (ours, pathway.last_validated_date) if d is not None]
    return max(dates) if dates else None


def validated_within(
    session: Session, *, pathway: Pathway, today: dt.date, weeks: int
) -> dt.date | None:
    """The validation date if the pathway was validated less than ``weeks`` ago, else None."""
    when = last_validated(session, pathway=pathway)
    if when is not None and when > today - dt.timedelta(weeks=weeks):
        return when
    return None


def open_round(
    session: Session,
    *,
    pathway: Pathway,
    now: dt.datetime,
    due_date: dt.date | None = None,
    reason: str = "campaign",
    campaign_id: int | None = None,
    previous: ValidationRound | None = None,
    flush: bool = True,
) -> ValidationRound:
    """Start the pathway's next round: its status is pending again until the patient answers.

    ``flush=False`` leaves the row pending (its id unset) for a caller that opens many rounds
    and flushes once: one batched ``INSERT`` instead of a round trip a pathway.
    """
    entry = ValidationRound(
        pathway_id=pathway.id,
        number=(previous.number if previous else 0) + 1,
        status=RoundStatus.OPEN,
        due_date=due_date or now.date(),
        reason=reason,
        campaign_id=campaign_id,
        outcome=Outcome.PENDING,
        recorded={},
        opened_at=now,
    )
    session.add(entry)
    pathway.outcome = Outcome.PENDING
    pathway.next_due_date = None  # a round is under way; its closing sets the next date
    if flush:
        session.flush()
    return entry


def round_for_outcome(session: Session, *, pathway: Pathway, now: dt.datetime) -> ValidationRound:
    """The round an outcome belongs to: the current one (a first round if there is none)."""
    return current_round(session, pathway_id=pathway.id) or open_round(
        session, pathway=pathway, now=now
    )


def rule_for(session: Session, *, cohort_id: int) -> DueRule:
    """The due rule of the cohort's schedule, or the NHS default when it has none."""
    schedule = session.scalars(
        select(ValidationSchedule)
        .where(ValidationSchedule.cohort_id == cohort_id)
        .order_by(ValidationSchedule.id.desc())
        .limit(1)
    ).one_or_none()
    if schedule is None:
        return DueRule()
    return DueRule(
        milestones=tuple(schedule.milestone_weeks),
        every=schedule.every_weeks,
        after=schedule.after_validation_weeks,
    )


def schedule_next(
    session: Session, *, pathway: Pathway, reference: dt.date | None, rule: DueRule | None = None
) -> None:
    """Set the pathway's next due date from ``reference`` (the last round or validation)."""
    staff = pathway.last_validated_date
    if staff is not None and (reference is None or staff > reference):
        reference = staff
    rule = rule or rule_for(session, cohort_id=pathway.cohort_id)
    pathway.next_due_date, _reason = rule.next_due(
        clock_start=pathway.clock_start_date, reference=reference
    )


def _close(session: Session, *, pathway: Pathway, entry: ValidationRound, now: dt.datetime) -> None:
    entry.status = RoundStatus.CLOSED
    entry.closed_at = now
    if entry.decision == Decision.REMOVE:
        pathway.next_due_date = None  # leaving the list; an undone removal reopens the round
        return
    schedule_next(session, pathway=pathway, reference=now.date())


def on_outcome(
    session: Session,
    *,
    pathway: Pathway,
    entry: PathwayOutcome,
    awaits_clinician: bool,
    now: dt.datetime,
) -> ValidationRound:
    """Record an outcome on its round; close the round unless a clinician must decide.

    The latest answer in a round decides it: a later "worse" reopens a round a "stay" closed.
    """
    current = round_for_outcome(session, pathway=pathway, now=now)
    pathway.outcome = current.outcome = entry.outcome
    current.outcome_at = now
    current.pathway_outcome_id = entry.id
    current.campaign_id = current.campaign_id or entry.campaign_id
    recorded = dict(entry.recorded or {})
    if recorded:
        current.recorded = {**(current.recorded or {}), **recorded}
    travel = (current.recorded or {}).get("willing_to_travel")
    current.willing_to_travel = travel if isinstance(travel, bool) else None
    if entry.outcome in VALIDATING_OUTCOMES:
        current.validated_date, current.validated_by = now.date(), "patient"
    else:
        current.validated_date = current.validated_by = None
    if awaits_clinician:
        current.status, current.closed_at = RoundStatus.OPEN, None
        current.decision = current.clinical_decision_id = None
        current.exported_at = None
        pathway.next_due_date = None
    else:
        _close(session, pathway=pathway, entry=current, now=now)
    session.flush()
    return current


def on_decision(
    session: Session, *, pathway: Pathway, decision: ClinicalDecision, now: dt.datetime
) -> ValidationRound:
    """A clinician's decision closes the round; keep and expedite validate the pathway."""
    current = round_for_outcome(session, pathway=pathway, now=now)
    current.decision = decision.decision
    current.clinical_decision_id = decision.id
    if decision.decision in VALIDATING_DECISIONS:
        current.validated_date, current.validated_by = now.date(), "clinician"
    current.exported_at = None
    _close(session, pathway=pathway, entry=current, now=now)
    session.flush()
    return current


def on_removal_undone(
    session: Session, *, pathway: Pathway, decision: ClinicalDecision
) -> ValidationRound | None:
    """An undone removal reopens its round: the clinician decides again."""
    entry = session.scalars(
        select(ValidationRound).where(ValidationRound.clinical_decision_id == decision.id)
    ).one_or_none()
    if entry is None:
        return None
    entry.status, entry.closed_at = RoundStatus.OPEN, None
    entry.decision = entry.clinical_decision_id = None
    entry.exported_at = None
    pathway.next_due_date = None
    session.flush()
    return entry


def validated_dates(session: Session, pathway_ids: Iterable[int]) -> dict[int, dt.date]:
    """The latest date each pathway was validated by the service (batched)."""
    ids = list(pathway_ids)
    found: dict[int, dt.date] = {}
    for chunk in in_batches(ids):
        rows = session.execute(
            select(ValidationRound.pathway_id, func.max(ValidationRound.validated_date))
            .where(
                ValidationRound.pathway_id.in_(chunk),
                ValidationRound.validated_date.is_not(None),
            )
            .group_by(ValidationRound.pathway_id)
        ).all()
        found.update({pathway_id: when for pathway_id, when in rows if when is not None})
    return found


def recently_validated(
    pathway: Pathway, *, ours: dt.date | None, today: dt.date, weeks: int
) -> bool:
    """Validated by the service (``ours``) or by staff less than ``weeks`` before ``today``."""
    dates = [d for d in (ours, pathway.last_validated_date) if d is not None]
    return bool(dates) and max(dates) > today - dt.timedelta(weeks=weeks)


def needs_new_round(entry: ValidationRound | None) -> bool:
    """A contact now would start a round: none yet, or the last one is closed."""
    return entry is None or entry.status == RoundStatus.CLOSED
