"""The validation-round migration turns each contacted pathway's history into its first round."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import Engine, MetaData, insert, select

from app.db import make_engine
from app.schema import upgrade
from tests.conftest import MIGRATIONS
from tests.support.databases import fresh_database
from tests.support.factories import synthetic_nhs_number

BEFORE_ROUNDS = "b044c54d70b3"


def upgraded(url: str, revision: str | None = None) -> tuple[Engine, MetaData]:
    """Upgrade ``url`` to ``revision`` (the head if None) and reflect its tables as they are
    there, so a test writes rows the way that revision's schema had them."""
    if revision is None:
        upgrade(url, MIGRATIONS)
    else:
        upgrade(url, MIGRATIONS, revision)
    engine = make_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    return engine, tables


def _at(engine: Engine, day: int) -> dt.datetime:
    when = dt.datetime(2026, 6, day, 10, 0, tzinfo=dt.UTC)
    return when.replace(tzinfo=None) if engine.dialect.name == "sqlite" else when


def _pathway(engine: Engine, tables: MetaData, n: int, outcome: str) -> int:
    now = _at(engine, 1)
    with engine.begin() as connection:
        cohort = tables.tables["cohort"]
        cohort_id = connection.scalar(select(cohort.c.id).where(cohort.c.name == "Migrated"))
        if cohort_id is None:
            cohort_id = connection.scalar(
                insert(cohort).values(name="Migrated", created_at=now).returning(cohort.c.id)
            )
        patient = tables.tables["patient"]
        patient_id = connection.scalar(
            insert(tables.tables["patient"])
            .values(
                nhs_number=synthetic_nhs_number(n * 7919),
                given_name="Ada",
                family_name="Testpatient",
                date_of_birth=dt.date(1956, 3, 14),
                preferred_language="en",
                interpreter_required=False,
                created_at=now,
                updated_at=now,
            )
            .returning(patient.c.id)
        )
        pathway = tables.tables["pathway"]
        return int(
            connection.scalar(
                insert(pathway)
                .values(
                    provider_code="RXX",
                    pathway_id=f"MIG-{n}",
                    patient_id=patient_id,
                    cohort_id=cohort_id,
                    status="open",
                    specialty_code="110",
                    clock_start_date=dt.date(2026, 1, 5),
                    flags=[],
                    diagnosis_codes=[],
                    row_hash="x",
                    outcome=outcome,
                    created_at=now,
                    updated_at=now,
                )
                .returning(pathway.c.id)
            )
        )


def test_existing_outcomes_become_first_rounds(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        engine, old = upgraded(url, BEFORE_ROUNDS)
        stayed = _pathway(engine, old, 1, "stay")
        leaving = _pathway(engine, old, 2, "leave")
        untouched = _pathway(engine, old, 3, "pending")
        with engine.begin() as connection:
            connection.execute(
                insert(old.tables["pathway_outcome"]),
                [
                    {
                        "pathway_id": stayed,
                        "outcome": "stay",
                        "recorded": {"willing_to_travel": True},
                        "recorded_at": _at(engine, 8),
                    },
                    {
                        "pathway_id": leaving,
                        "outcome": "leave",
                        "recorded": {},
                        "recorded_at": _at(engine, 9),
                    },
                ],
            )
        engine.dispose()
        engine, new = upgraded(url)
        rounds = new.tables["validation_round"]
        with engine.connect() as connection:
            rows = {row.pathway_id: row for row in connection.execute(select(rounds))}
        engine.dispose()
    assert set(rows) == {stayed, leaving}, "a pathway never contacted has no round yet"
    assert rows[stayed].number == 1
    assert rows[stayed].status == "closed"
    assert rows[stayed].outcome == "stay"
    assert rows[stayed].validated_date == dt.date(2026, 6, 8)
    assert rows[stayed].willing_to_travel is True
    assert rows[leaving].status == "open", "an answer awaiting a clinician keeps its round open"
    assert rows[leaving].validated_date is None
    assert untouched not in rows
