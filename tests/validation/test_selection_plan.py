"""The daily selection reads the due-date index in its order, not the whole list (both DBs)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy.orm import Session

from app.campaigns.schedules import due_selection
from app.models import PathwayStatus
from tests.support.factories import make_cohort, make_pathway
from tests.support.statements import query_plan


def _plan(session: Session) -> str:
    return query_plan(session, due_selection(1, dt.date(2026, 11, 30), 500))


def test_the_daily_selection_is_a_range_of_the_due_date_index(db_session: Session) -> None:
    plan = _plan(db_session)
    assert "ix_pathway_next_due" in plan, plan


def test_the_daily_selection_needs_no_sort(db_session: Session) -> None:
    # The index holds the selection's order (due date, then id): the database stops at the
    # limit instead of reading and sorting the whole last day (a national day's 125,000 rows).
    plan = _plan(db_session)
    assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("seed", [1, 2])
def test_it_selects_the_most_overdue_open_pathways_of_the_cohort_up_to_the_limit(
    db_session: Session, seed: int
) -> None:
    rng = random.Random(seed)
    cohort, other = make_cohort(db_session), make_cohort(db_session)
    horizon = dt.date(2026, 12, 14)
    expected = []
    for _ in range(60):
        due = rng.choice([None, *(horizon + dt.timedelta(days=d) for d in range(-4, 3))])
        status = rng.choice([PathwayStatus.OPEN] * 4 + [PathwayStatus.CLOSED])
        pathway = make_pathway(
            db_session, cohort=rng.choice([cohort, cohort, other]), next_due_date=due, status=status
        )
        if (
            pathway.cohort_id == cohort.id
            and status == PathwayStatus.OPEN
            and due is not None
            and due <= horizon
        ):
            expected.append((due, pathway.id))
    expected.sort()

    rows = db_session.execute(due_selection(cohort.id, horizon, 10)).all()

    assert [(p.next_due_date, p.id) for p, _ in rows] == expected[:10]
    assert all(patient.id == pathway.patient_id for pathway, patient in rows)
