"""Over-long cells and rows: each is its row's error, never a crash that loses the other rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cohort.reader import ROW_LIMIT
from app.errors import InvalidInputError
from app.models import ImportJob, ImportStatus, Pathway
from app.schema import upgrade
from tests.cohort.support import ADA, BEN, CARA, HEADER, write_csv
from tests.cohort.test_import import run_import
from tests.conftest import MIGRATIONS
from tests.support.databases import fresh_database
from tests.test_cli import run_waitlist

HUGE = "x" * 200_000  # over the csv module's own 131,072-character field limit


def imported_ids(session: Session) -> list[str]:
    return sorted(session.scalars(select(Pathway.pathway_id)))


def test_the_row_limit_is_below_the_csv_modules_field_limit() -> None:
    assert csv.field_size_limit() > ROW_LIMIT


@pytest.mark.parametrize(
    ("huge_row", "column"),
    [
        (BEN.replace("Ben", HUGE), "given_name"),
        (BEN.replace("Ben", f'"{HUGE}\n{HUGE}"'), "given_name"),  # quoted, spanning lines
        (BEN.replace(",7,", f',"7,{HUGE}",'), "imd_decile"),
        (BEN + "," + HUGE, "column 12"),  # a cell beyond the header's columns
    ],
)
def test_an_over_long_cell_rejects_its_row_and_the_others_import(
    db_session: Session, tmp_path: Path, huge_row: str, column: str
) -> None:
    path = write_csv(tmp_path / "c.csv", ADA, huge_row, CARA)
    report = run_import(db_session, path, chunk_rows=2)
    assert (report.counts["rows"], report.counts["imported"], report.counts["rejected"]) == (
        3,
        2,
        1,
    )
    [error] = report.errors
    assert (error["line"], error["column"]) == (3, column)
    assert f"longer than {ROW_LIMIT:,} characters" in error["message"]
    assert imported_ids(db_session) == ["RXN-000001", "RXN-000003"]


def test_a_huge_cell_within_the_row_limit_is_refused_by_its_column(
    db_session: Session, tmp_path: Path
) -> None:
    report = run_import(db_session, write_csv(tmp_path / "c.csv", ADA.replace("Ada", "A" * 60_000)))
    assert [(e["line"], e["column"]) for e in report.errors] == [(2, "given_name")]
    assert "longer than 100 characters" in report.errors[0]["message"]


def test_line_numbers_after_an_over_long_row_stay_right(
    db_session: Session, tmp_path: Path
) -> None:
    bad_after = CARA.replace("P4", "P9")
    path = write_csv(tmp_path / "c.csv", BEN.replace("Ben", HUGE), ADA, bad_after)
    report = run_import(db_session, path)
    assert [e["line"] for e in report.errors] == [2, 4]


def test_a_crlf_file_with_an_over_long_row_keeps_its_line_numbers(
    db_session: Session, tmp_path: Path
) -> None:
    # The limit may cut the CRLF in two; its LF must not count as another row.
    long_name = "x" * (ROW_LIMIT - len(BEN) + 3)
    lines = [HEADER, BEN.replace("Ben", long_name), ADA, CARA.replace("P4", "P9")]
    path = tmp_path / "crlf.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    report = run_import(db_session, path)
    assert [e["line"] for e in report.errors] == [2, 4]
    assert report.counts["imported"] == 1


def test_an_over_long_header_refuses_the_file_clearly(db_session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", ADA, header=HEADER + "," + HUGE)
    with pytest.raises(InvalidInputError, match="header row"):
        run_import(db_session, path)
    job = db_session.scalars(select(ImportJob)).one()
    assert job.status is ImportStatus.FAILED
    assert "header row (line 1) is longer than" in (job.error or "")


@pytest.fixture
def migrated_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        upgrade(url, MIGRATIONS)
        yield url


def test_the_command_line_prints_its_json_report_for_a_file_with_a_huge_cell(
    tmp_path: Path, migrated_url: str
) -> None:
    path = write_csv(tmp_path / "ptl.csv", ADA, BEN.replace("Ben", HUGE), CARA)
    result = run_waitlist(
        "import", str(path), "--json", cwd=tmp_path, env={"WAITLIST_DATABASE_URL": migrated_url}
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["imported"], report["rejected"]) == (2, 1)
    assert report["errors"][0]["line"] == 3


def test_the_command_line_refuses_a_huge_header_with_json_and_exit_1(
    tmp_path: Path, migrated_url: str
) -> None:
    path = write_csv(tmp_path / "ptl.csv", ADA, header=HEADER + "," + HUGE)
    result = run_waitlist(
        "import", str(path), "--json", cwd=tmp_path, env={"WAITLIST_DATABASE_URL": migrated_url}
    )
    assert result.returncode == 1, result.stderr
    assert "header row" in json.loads(result.stdout)["error"]


def test_a_cell_that_fills_the_row_exactly_is_blamed_not_the_next_column(
    db_session: Session, tmp_path: Path
) -> None:
    header = "given_name," + HEADER.replace("given_name,", "")
    exact = "z" * ROW_LIMIT + "," + BEN.replace("Ben,", "")
    ada = "Ada," + ADA.replace("Ada,", "")
    report = run_import(db_session, write_csv(tmp_path / "c.csv", exact, ada, header=header))
    assert [(e["line"], e["column"]) for e in report.errors] == [(2, "given_name")]
    assert report.counts["imported"] == 1
