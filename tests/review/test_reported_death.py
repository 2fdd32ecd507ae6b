"""A death reported on the phone goes to staff first: a review item, no further contact about any
of the patient's pathways, and a removal only when a clinician confirms it (never by itself)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.campaigns.eligibility import Block, block_for_pathway
from app.models import Outcome, PathwayStatus, Patient, ReviewItem, ReviewStatus
from app.outcomes.service import record_outcome
from app.review.decisions import suggest_rtt_status_code
from app.review.intake import REVIEW_RANK
from tests.support.factories import make_cohort, make_pathway


def test_a_reported_death_opens_a_review_item_ranked_after_worsening_only(
    db_session: Session,
) -> None:
    pathway = make_pathway(db_session)
    record_outcome(
        db_session,
        pathway=pathway,
        outcome=Outcome.REPORTED_DECEASED,
        recorded={"reported_deceased": True},
    )
    db_session.flush()
    item = db_session.scalars(select(ReviewItem).where(ReviewItem.pathway_id == pathway.id)).one()
    assert item.status == ReviewStatus.OPEN
    assert item.reason == Outcome.REPORTED_DECEASED.value
    assert REVIEW_RANK[Outcome.WORSENED] < item.rank <= REVIEW_RANK[Outcome.LEAVE]
    # Nothing was removed: the pathway stays open until a clinician decides.
    assert pathway.status == PathwayStatus.OPEN


def test_nobody_is_contacted_again_about_any_pathway_of_a_patient_reported_dead(
    db_session: Session,
) -> None:
    cohort = make_cohort(db_session)
    first = make_pathway(db_session, cohort=cohort)
    patient = db_session.get(Patient, first.patient_id)
    assert patient is not None
    second = make_pathway(db_session, cohort=cohort)
    second.patient_id = patient.id
    db_session.flush()
    assert block_for_pathway(db_session, pathway=second, patient=patient) is None
    record_outcome(db_session, pathway=first, outcome=Outcome.REPORTED_DECEASED)
    db_session.flush()
    assert block_for_pathway(db_session, pathway=first, patient=patient) == (
        Block.REPORTED_DECEASED
    )
    assert block_for_pathway(db_session, pathway=second, patient=patient) == (
        Block.REPORTED_DECEASED
    )
    assert Block.REPORTED_DECEASED.final


def test_a_reported_death_suggests_rtt_36_for_the_clinician_to_confirm(
    db_session: Session,
) -> None:
    pathway = make_pathway(db_session)
    patient = db_session.get(Patient, pathway.patient_id)
    assert patient is not None
    code = suggest_rtt_status_code(
        reason=Outcome.REPORTED_DECEASED.value, patient=patient, pathway=pathway
    )
    assert code == "36"
