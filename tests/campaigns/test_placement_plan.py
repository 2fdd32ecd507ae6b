"""The placing check reads indexes for each of its facts, not a growing table (both DBs).

It runs at every placement, 125,000 times on a national day. Its shared-number fact once had
no index of its own: PostgreSQL found in-flight attempts through the status index instead, whose
dead entries pile up with every status change until a vacuum, and the check reached 0.5 s.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from app.campaigns.eligibility import ATTEMPT_FACTS
from tests.support.statements import query_plan

VALUES = {
    "fact_pathway_id": 1,
    "fact_patient_id": 2,
    "fact_round_id": 3,
    "attempt_id": 4,
    "today_starts_at": dt.datetime(2026, 12, 3, tzinfo=dt.UTC),
    "fact_number": "+447700900123",
}


def _plan(session: Session) -> str:
    return query_plan(session, ATTEMPT_FACTS.params(VALUES))


def test_the_shared_number_check_reads_the_numbers_own_attempts(db_session: Session) -> None:
    plan = _plan(db_session)
    assert "ix_contact_attempt_number_status" in plan, plan


def test_no_fact_of_the_placing_check_scans_a_table(db_session: Session) -> None:
    plan = _plan(db_session)
    assert "Seq Scan" not in plan and "SCAN contact_attempt" not in plan, plan
    assert "SCAN exclusion" not in plan and "SCAN pathway" not in plan, plan
