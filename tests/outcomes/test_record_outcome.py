from __future__ import annotations

import csv
import datetime as dt
import io

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import (
    ClinicalDecision,
    Outcome,
    PathwayOutcome,
    PathwayStatus,
    ReviewItem,
    ReviewStatus,
)
from app.outcomes.service import record_outcome
from app.review.export import export_outcomes
from app.review.intake import priority_rank
from tests.support.factories import make_pathway

MONDAY_NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def open_items(session: Session) -> list[ReviewItem]:
    return list(session.scalars(select(ReviewItem).where(ReviewItem.status == ReviewStatus.OPEN)))


def test_a_stay_answer_is_recorded_and_not_queued(db_session: Session) -> None:
    pathway = make_pathway(db_session)
    record_outcome(db_session, pathway=pathway, outcome=Outcome.STAY, now=MONDAY_NOON)
    assert pathway.outcome == Outcome.STAY
    assert open_items(db_session) == []


def test_a_worsened_answer_goes_to_the_top_and_is_due_in_two_working_days(
    db_session: Session,
) -> None:
    pathway = make_pathway(db_session, priority="P4")
    record_outcome(db_session, pathway=pathway, outcome=Outcome.WORSENED, now=MONDAY_NOON)
    [item] = open_items(db_session)
    assert (item.reason, item.rank, item.priority_rank) == ("worsened", 0, 4)
    assert item.due_at.date() == dt.date(2026, 11, 25)


def test_working_days_skip_weekends_and_bank_holidays(db_session: Session) -> None:
    pathway = make_pathway(db_session)
    christmas_eve = dt.datetime(2026, 12, 24, 9, 0, tzinfo=dt.UTC)  # a Thursday
    record_outcome(db_session, pathway=pathway, outcome=Outcome.WORSENED, now=christmas_eve)
    [item] = open_items(db_session)
    # Fri 25 and Mon 28 (substitute for Boxing Day) are bank holidays: Tue 29, Wed 30.
    assert item.due_at.date() == dt.date(2026, 12, 30)


def test_a_second_answer_moves_the_open_item_instead_of_adding_one(db_session: Session) -> None:
    pathway = make_pathway(db_session)
    record_outcome(db_session, pathway=pathway, outcome=Outcome.LEAVE, now=MONDAY_NOON)
    record_outcome(db_session, pathway=pathway, outcome=Outcome.WORSENED, now=MONDAY_NOON)
    [item] = open_items(db_session)
    assert (item.reason, item.rank, item.version) == ("worsened", 0, 2)
    history = db_session.scalars(select(PathwayOutcome.outcome).order_by(PathwayOutcome.id)).all()
    assert history == [Outcome.LEAVE, Outcome.WORSENED]


def test_unknown_priorities_sort_last() -> None:
    assert [priority_rank(p) for p in ("P1", "P6", None, "urgent")] == [1, 6, 9, 9]


def test_an_unreachable_patient_stays_on_the_list_and_nothing_is_sent_to_the_pas(
    db_session: Session,
) -> None:
    pathway = make_pathway(db_session)
    record_outcome(
        db_session, pathway=pathway, outcome=Outcome.UNREACHABLE, note="attempt policy exhausted"
    )

    assert pathway.status == PathwayStatus.OPEN
    assert open_items(db_session) == []
    assert db_session.scalar(select(func.count()).select_from(ClinicalDecision)) == 0
    out = io.StringIO()
    report = export_outcomes(db_session, out=out, actor="test")
    # The PAS hears the round was tried and not validated, and nothing is removed.
    assert report.rows == 1
    [row] = csv.DictReader(io.StringIO(out.getvalue()))
    assert (row["patient_answer"], row["clinical_decision"], row["rtt_status_code"]) == (
        "unreachable",
        "",
        "",
    )
    assert row["validated_date"] == ""


def test_the_pathway_keeps_the_time_of_its_newest_definitive_answer(db_session: Session) -> None:
    """``last_answer_at`` is what the dashboard reads instead of aggregating every outcome: it
    must equal the newest stay, leave or worsened outcome's time, whatever came after."""
    pathway = make_pathway(db_session)
    day = dt.timedelta(days=1)
    record_outcome(db_session, pathway=pathway, outcome=Outcome.UNREACHABLE, now=MONDAY_NOON)
    assert pathway.last_answer_at is None, "no answer yet"
    sequence = [
        (Outcome.STAY, MONDAY_NOON + day),
        (Outcome.UNCLEAR, MONDAY_NOON + 2 * day),  # not an answer: the stay still stands
        (Outcome.WORSENED, MONDAY_NOON + 3 * day),
        (Outcome.LEAVE, MONDAY_NOON + 2 * day),  # recorded with an earlier time: not newer
        (Outcome.UNREACHABLE, MONDAY_NOON + 4 * day),
    ]
    for outcome, when in sequence:
        record_outcome(db_session, pathway=pathway, outcome=outcome, now=when)
        newest = db_session.scalar(
            select(func.max(PathwayOutcome.recorded_at)).where(
                PathwayOutcome.pathway_id == pathway.id,
                PathwayOutcome.outcome.in_((Outcome.STAY, Outcome.LEAVE, Outcome.WORSENED)),
            )
        )
        db_session.refresh(pathway)
        assert pathway.last_answer_at is not None and newest is not None
        assert pathway.last_answer_at.replace(tzinfo=None) == newest.replace(tzinfo=None)
    assert pathway.last_answer_at is not None
    assert pathway.last_answer_at.replace(tzinfo=None) == (MONDAY_NOON + 3 * day).replace(
        tzinfo=None
    )
