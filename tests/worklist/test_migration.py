"""Upgrading a database that has patients in dead ends gives each of them a worklist task."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from app.db import make_engine
from app.schema import upgrade
from tests.conftest import MIGRATIONS
from tests.support.databases import fresh_database
from tests.support.factories import synthetic_nhs_number

BEFORE = "b044c54d70b3"
NOW = "2026-11-23 12:00:00"  # as the raw rows of an older version held it


def test_existing_dead_ends_get_a_task_each_on_upgrade(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        upgrade(url, MIGRATIONS, BEFORE)
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO cohort (id, name, created_at) VALUES (1, 'old', :now)"),
                {"now": NOW},
            )
            for n, outcome in enumerate(
                ["unverified", "callback_requested", "stay", "unreachable", "excluded"], start=1
            ):
                connection.execute(
                    text(
                        "INSERT INTO patient (id, nhs_number, given_name, family_name, "
                        "date_of_birth, preferred_language, interpreter_required, created_at, "
                        "updated_at) VALUES (:n, :nhs, 'Ada', 'Testpatient', '1956-03-14', 'en', "
                        "false, :now, :now)"
                    ),
                    {"n": n, "nhs": synthetic_nhs_number(n * 7919), "now": NOW},
                )
                connection.execute(
                    text(
                        "INSERT INTO pathway (id, provider_code, pathway_id, patient_id, "
                        "cohort_id, status, specialty_code, clock_start_date, flags, "
                        "diagnosis_codes, row_hash, outcome, created_at, updated_at) VALUES "
                        "(:n, 'RXX', :ref, :n, 1, 'open', '110', '2025-01-06', '[]', '[]', "
                        "'h', :outcome, :now, :now)"
                    ),
                    {"n": n, "ref": f"P{n}", "outcome": outcome, "now": NOW},
                )
        engine.dispose()

        upgrade(url, MIGRATIONS)

        engine = make_engine(url)
        with engine.connect() as connection:
            tasks = connection.execute(
                text("SELECT pathway_id, reason, state FROM worklist_task ORDER BY pathway_id")
            ).all()
        engine.dispose()
    assert [tuple(row) for row in tasks] == [
        (1, "unverified", "open"),
        (2, "callback_requested", "open"),
        (4, "unreachable", "open"),
    ]
