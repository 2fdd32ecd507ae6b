"""Planning reads eligibility facts for a whole batch at once: the same answers as the
one-pathway check, in a number of queries that does not grow with each pathway."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from app import db
from app.campaigns.eligibility import Block, block_for_pathway, pathway_facts
from app.models import Exclusion, Outcome, Pathway, PathwayStatus, Patient
from tests.support.factories import make_cohort, make_pathway


def _with_patients(session: Session, pathways: list[Pathway]) -> list[tuple[Pathway, Patient]]:
    rows = []
    for pathway in pathways:
        patient = session.get(Patient, pathway.patient_id)
        assert patient is not None
        rows.append((pathway, patient))
    return rows


@pytest.fixture
def mixed(db_session: Session) -> list[tuple[Pathway, Patient]]:
    """Pathways each held back for a different reason, and two that may be called."""
    cohort = make_cohort(db_session)
    plain = make_pathway(db_session, cohort=cohort)
    excluded = make_pathway(db_session, cohort=cohort)
    db_session.add(
        Exclusion(pathway_id=excluded.id, rule_id="paediatric", reason="a child", rule_set_hash="h")
    )
    # A death reported on one pathway holds back every pathway of that patient.
    deceased = make_pathway(db_session, cohort=cohort, outcome=Outcome.REPORTED_DECEASED)
    sibling = make_pathway(db_session, cohort=cohort)
    sibling.patient_id = deceased.patient_id
    closed = make_pathway(db_session, cohort=cohort, status=PathwayStatus.CLOSED)
    opted_out = make_pathway(
        db_session, cohort=cohort, opted_out_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    )
    answered = make_pathway(db_session, cohort=cohort, outcome=Outcome.STAY)
    also_plain = make_pathway(db_session, cohort=cohort)
    db_session.flush()
    pathways = [plain, excluded, deceased, sibling, closed, opted_out, answered, also_plain]
    return _with_patients(db_session, pathways)


@pytest.mark.parametrize("new_round", [False, True])
@pytest.mark.parametrize("batch", [1000, 2])  # 2: every look-up runs in several chunks
def test_batch_facts_block_exactly_what_the_one_pathway_check_blocks(
    db_session: Session,
    mixed: list[tuple[Pathway, Patient]],
    monkeypatch: pytest.MonkeyPatch,
    new_round: bool,
    batch: int,
) -> None:
    monkeypatch.setattr(db, "IN_LIST_SIZE", batch)
    facts = pathway_facts(db_session, mixed)
    batched = [facts.block(p, patient, new_round=new_round) for p, patient in mixed]
    single = [
        block_for_pathway(db_session, pathway=p, patient=patient, new_round=new_round)
        for p, patient in mixed
    ]
    assert batched == single
    assert batched[:6] == [
        None,
        Block.EXCLUDED,
        Block.REPORTED_DECEASED,
        Block.REPORTED_DECEASED,
        Block.PATHWAY_CLOSED,
        Block.OPTED_OUT,
    ]
    assert batched[6] == (None if new_round else Block.ANSWERED_THIS_ROUND)
    assert batched[7] is None


@pytest.fixture
def statements(db_session: Session) -> Iterator[list[str]]:
    """Every SQL statement the session's connection runs while the test holds this."""
    seen: list[str] = []
    connection = db_session.connection()

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(connection, "before_cursor_execute", count)
    yield seen
    event.remove(connection, "before_cursor_execute", count)


def test_batch_facts_cost_two_queries_a_thousand_pathways_not_one_each(
    db_session: Session, mixed: list[tuple[Pathway, Patient]], statements: list[str]
) -> None:
    pathway_facts(db_session, mixed * 3)  # 24 rows, 8 pathways
    assert len(statements) == 2
