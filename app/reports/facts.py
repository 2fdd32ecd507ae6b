"""One row per pathway of a campaign's cohort, with what happened to it: the base of every count.

Reports aggregate this subquery with GROUP BY; nothing loops over pathways in Python. The same
SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, and_, case, exists, func, literal, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.selectable import Subquery

from app.models import (
    AttemptStatus,
    Campaign,
    ClinicalDecision,
    ContactAttempt,
    Decision,
    Exclusion,
    Outcome,
    Pathway,
    PathwayOutcome,
    ReviewItem,
)

# An attempt that got as far as the provider (it cost something, or may have).
REACHED_PROVIDER = (
    AttemptStatus.PLACED,
    AttemptStatus.IN_PROGRESS,
    AttemptStatus.COMPLETED,
    AttemptStatus.NO_ANSWER,
    AttemptStatus.BUSY,
    AttemptStatus.FAILED,
    AttemptStatus.VOICEMAIL,
    AttemptStatus.IN_DOUBT,
)
# Outcomes a script can only reach after the patient's date of birth was confirmed (call-flows.md:
# nothing about care is said before a `verify` step succeeds).
VERIFIED_OUTCOMES = (Outcome.STAY, Outcome.LEAVE, Outcome.WORSENED, Outcome.UNCLEAR)
# A definitive answer about the waiting list: the pathway is validated.
COMPLETED_OUTCOMES = (Outcome.STAY, Outcome.LEAVE, Outcome.WORSENED)
# The patient took part in a conversation (as opposed to never being reached, or opting out).
RESPONDED_OUTCOMES = (
    Outcome.STAY,
    Outcome.LEAVE,
    Outcome.WORSENED,
    Outcome.UNCLEAR,
    Outcome.UNVERIFIED,
    Outcome.CALLBACK_REQUESTED,
)


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """``1`` where ``condition`` holds, else ``0`` (summed to count)."""
    return case((condition, 1), else_=0)


def pathway_facts(campaign: Campaign) -> Subquery:
    """Per pathway in the campaign's cohort: its groups and 0/1 flags for each funnel stage."""
    attempts = (
        select(
            ContactAttempt.pathway_id.label("pathway_id"),
            func.max(flag(ContactAttempt.status.in_(REACHED_PROVIDER))).label("attempted"),
            func.max(flag(ContactAttempt.answered_at.is_not(None))).label("answered"),
        )
        .where(ContactAttempt.campaign_id == campaign.id)
        .group_by(ContactAttempt.pathway_id)
        .subquery("attempts")
    )
    latest_ids = (
        select(
            PathwayOutcome.pathway_id.label("pathway_id"),
            func.max(PathwayOutcome.id).label("outcome_id"),
        )
        .where(PathwayOutcome.campaign_id == campaign.id)
        .group_by(PathwayOutcome.pathway_id)
        .subquery("latest_ids")
    )
    latest = aliased(PathwayOutcome, name="latest")
    excluded = exists().where(Exclusion.pathway_id == Pathway.id)
    verified = exists().where(
        PathwayOutcome.pathway_id == Pathway.id,
        PathwayOutcome.campaign_id == campaign.id,
        PathwayOutcome.outcome.in_(VERIFIED_OUTCOMES),
    )
    removed = exists(
        select(literal(1))
        .select_from(ClinicalDecision)
        .join(ReviewItem, ReviewItem.id == ClinicalDecision.review_item_id)
        .where(
            ClinicalDecision.pathway_id == Pathway.id,
            ReviewItem.campaign_id == campaign.id,
            ClinicalDecision.decision == Decision.REMOVE,
            ClinicalDecision.undone_at.is_(None),
        )
    )
    query = (
        select(
            Pathway.id.label("pathway_id"),
            Pathway.patient_id.label("patient_id"),
            Pathway.specialty_code.label("specialty_code"),
            Pathway.provider_code.label("provider_code"),
            flag(excluded).label("excluded"),
            func.coalesce(attempts.c.attempted, 0).label("attempted"),
            func.coalesce(attempts.c.answered, 0).label("answered"),
            flag(verified).label("verified"),
            latest.outcome.label("outcome"),
            flag(removed).label("removed"),
        )
        .select_from(Pathway)
        .outerjoin(attempts, attempts.c.pathway_id == Pathway.id)
        .outerjoin(latest_ids, latest_ids.c.pathway_id == Pathway.id)
        .outerjoin(latest, and_(latest.id == latest_ids.c.outcome_id))
        .where(Pathway.cohort_id == campaign.cohort_id)
    )
    return query.subquery("facts")


def total(column: ColumnElement[int]) -> ColumnElement[int]:
    """``SUM(column)`` that is 0, not NULL, over no rows, typed as an integer."""
    return func.coalesce(func.sum(column), 0, type_=Integer)
