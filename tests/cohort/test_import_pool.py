"""A large file's rows validated in worker processes: same rows, same errors, same order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cohort import pool
from app.cohort.columns import match_header
from app.cohort.reader import ROW_LIMIT
from app.cohort.rows import RowError, RowValidator
from app.cohort.service import import_cohort
from app.config import SOURCE_ROOT
from app.eligibility.rules import load_rules
from app.models import Pathway
from tests.cohort.support import ADA, BEN, CARA, HEADER, write_csv

TODAY = dt.date(2026, 11, 22)


def test_the_pool_returns_every_chunk_in_file_order_with_its_errors() -> None:
    validator = RowValidator(
        match_header(HEADER.split(",")), today=TODAY, default_provider_code="RXN"
    )
    rows: list[tuple[int, list[str] | RowError]] = []
    for line in range(2, 40):
        cells = (ADA if line % 3 else ADA.replace("P4", "P9")).split(",")
        cells[1] = f"RXN-{line:06d}"
        rows.append((line, cells))
    rows.append((40, RowError(40, "notes", "too long")))
    chunks = [rows[start : start + 4] for start in range(0, len(rows), 4)]

    serial = [validator.check(chunk) for chunk in chunks]
    pooled = list(
        pool.checked_chunks(iter(chunks), validator, expected_rows=len(rows), workers=2, min_rows=0)
    )

    assert pooled == serial
    assert [e.line for chunk in pooled for e in chunk.errors] == [
        line for line in range(2, 40) if line % 3 == 0
    ] + [40]


def test_an_import_through_the_pool_keeps_bad_rows_out_with_their_lines(
    db_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool, "POOL_MIN_ROWS", 0)
    bad_priority = BEN.replace("P3", "P0")
    overlong = CARA.replace("dementia", "x" * ROW_LIMIT)
    path = write_csv(tmp_path / "c.csv", ADA, bad_priority, overlong, CARA, ADA)

    report = import_cohort(
        db_session,
        cohort_name="north",
        path=path,
        default_provider_code="RXN",
        rules=load_rules(SOURCE_ROOT / "exclusions"),
        today=TODAY,
        actor="alice",
        chunk_rows=2,
        workers=2,
    )

    assert [(e["line"], e["column"]) for e in report.errors] == [
        (3, "priority"),
        (4, "flags"),
        (6, "pathway_id"),
    ]
    assert (report.counts["imported"], report.counts["rejected"]) == (2, 3)
    assert report.excluded["dementia"] == 1
    assert sorted(db_session.scalars(select(Pathway.pathway_id))) == ["RXN-000001", "RXN-000003"]
