"""A property-based CSV fuzzer: hostile files never crash the import or lose a good row.

Each example is a whole file: an encoding, a delimiter, line ends, a shuffled header, good rows
and rows with one known defect each (a formula, a control character, a huge or long cell, a bad
decile, date or NHS number), sometimes a file-level defect (a duplicated or huge header, stray
control bytes, UTF-16, semicolons). The oracle knows what each row should become:

- a file-level defect refuses the file with a DomainError (the API's 422) and imports nothing;
- otherwise every bad row is reported at its spreadsheet line with its column, no good row is
  reported, and every good row is imported and open.

The budget is ``WAITLIST_CSV_FUZZ_EXAMPLES`` files (100 by default, about ten seconds; see
docs/operations.md "CSV fuzzing" for a longer soak).
"""

from __future__ import annotations

import csv
import io
import itertools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cohort.columns import REQUIRED
from app.cohort.reader import ROW_LIMIT
from app.errors import DomainError
from app.models import ImportJob, ImportStatus, Pathway, PathwayStatus
from tests.cohort.test_import import run_import

EXAMPLES = int(os.environ.get("WAITLIST_CSV_FUZZ_EXAMPLES", "100"))
COLUMNS = (*REQUIRED, "mobile_phone", "imd_decile", "priority", "planned_procedure", "ward")
FIRST = "AaBbZzÉéÖöÓñ"
LETTERS = FIRST + "łźŁ中 '-,\"."  # the last few need UTF-8; a comma and a quote need quoting
# Anything a text file may hold: stray C0 control bytes refuse the whole file (a file-level
# defect of its own below), so they are left out of ordinary cells.
ANY_TEXT = st.characters(
    exclude_categories=["Cs"],
    exclude_characters=[chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)],
)
_files = itertools.count()


def nhs_number(stem: int) -> str:
    """A synthetic-range NHS number (999...) with a valid Modulus 11 check digit."""
    while True:
        digits = f"{stem:09d}"
        check = 11 - sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True)) % 11
        if check != 10:
            return digits + str(check % 11)
        stem += 1


def short(value: str) -> str:
    """A cell as a failure report shows it: huge ones abbreviated (hypothesis prints examples)."""
    return repr(value) if len(value) <= 80 else f"{value[:20]!r} + ... ({len(value):,} chars)"


@dataclass(repr=False)
class Row:
    cells: dict[str, str]
    defect: str | None = None  # the column a correct importer must blame

    def __repr__(self) -> str:
        cells = ", ".join(f"{name}={short(value)}" for name, value in self.cells.items())
        return f"Row(defect={self.defect!r}, {cells})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@dataclass(repr=False)
class CohortFile:
    header: list[str]
    rows: list[Row]
    encoding: str
    delimiter: str
    line_end: str
    quoting: Literal[0, 1, 2, 3]
    blank_after: set[int] = field(default_factory=set)
    file_defect: str | None = None

    def __repr__(self) -> str:
        header = ", ".join(short(name) for name in self.header)
        return (
            f"CohortFile({self.encoding}, delimiter={self.delimiter!r}, "
            f"line_end={self.line_end!r}, quoting={self.quoting}, blank_after={self.blank_after}, "
            f"file_defect={self.file_defect!r}, header=[{header}], rows={self.rows!r})"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


names = st.builds(
    lambda first, rest: (first + rest).strip(),
    st.sampled_from(FIRST),
    st.text(alphabet=LETTERS, max_size=30),
)


@st.composite
def good_rows(draw: st.DrawFn) -> Row:
    day = draw(st.integers(1, 28))
    birth = draw(st.sampled_from([f"1960-03-{day:02d}", f"{day:02d}/11/1985", f"{day}/1/1947"]))
    return Row(
        {
            "nhs_number": nhs_number(draw(st.integers(999_000_000, 999_999_998))),
            "given_name": draw(names),
            "family_name": draw(names),
            "date_of_birth": birth,
            "specialty_code": draw(st.sampled_from(["110", "120", "130"])),
            "clock_start_date": "2025-01-06",
            "mobile_phone": draw(st.sampled_from(["07700 900001", "+447700900123", "", "x"])),
            "imd_decile": draw(st.sampled_from(["", "1", "5.0", "10", " 7 "])),
            "priority": draw(st.sampled_from(["", "P1", "p4"])),
            "planned_procedure": draw(st.sampled_from(["", "Hip replacement", 'Knee, "left"'])),
            "ward": draw(st.text(alphabet=ANY_TEXT, max_size=20)),  # unknown column: ignored
        }
    )


DEFECTS: list[tuple[str, st.SearchStrategy[str]]] = [
    ("family_name", st.sampled_from(["=1+1", "+447700900001", "-2+3", "@SUM(A1)", "\uff1d1"])),
    ("given_name", st.sampled_from(["Ada\nLovelace", "Ada\r\nL", "A\tda", "A\u2028da", "A\x85da"])),
    ("given_name", st.integers(101, 5_000).map(lambda n: "y" * n)),
    ("given_name", st.integers(ROW_LIMIT, ROW_LIMIT * 3).map(lambda n: "z" * n)),
    ("planned_procedure", st.integers(ROW_LIMIT, ROW_LIMIT * 2).map(lambda n: "p\n" * (n // 2))),
    ("imd_decile", st.sampled_from(["5.5", "11", "0", "ten", "-1"])),
    ("date_of_birth", st.sampled_from(["31/02/1990", "1990-13-01", "03/14/1956", "2099-01-01"])),
    ("nhs_number", st.sampled_from(["9990000019", "12345", "999 000 001X"])),
    ("pathway_id", st.just("")),
]


@st.composite
def bad_rows(draw: st.DrawFn) -> Row:
    row = draw(good_rows())
    column, values = draw(st.sampled_from(DEFECTS))
    row.cells[column] = draw(values)
    row.defect = column
    return row


@st.composite
def cohort_files(draw: st.DrawFn) -> CohortFile:
    header = draw(st.permutations(COLUMNS))
    header = [draw(st.sampled_from([name, name.upper(), f" {name} "])) for name in header]
    rows = draw(st.lists(st.one_of(good_rows(), bad_rows()), min_size=0, max_size=12))
    cohort = CohortFile(
        header=header,
        rows=rows,
        encoding=draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])),
        delimiter=",",
        line_end=draw(st.sampled_from(["\n", "\r\n"])),
        quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        blank_after=draw(st.sets(st.integers(0, len(rows)), max_size=2)),
    )
    defect = draw(
        st.sampled_from([None] * 6 + ["duplicate", "huge_header", "bell", "utf-16", "semicolon"])
    )
    cohort.file_defect = defect
    if defect == "duplicate":
        cohort.header.append(draw(st.sampled_from(COLUMNS[:-1])).upper())
    elif defect == "huge_header":
        cohort.header.append("h" * draw(st.integers(ROW_LIMIT, ROW_LIMIT * 2)))
    elif defect == "bell" and rows:
        rows[0].cells["family_name"] = "Bell\x07"
    elif defect == "bell":
        cohort.file_defect = None
    elif defect == "utf-16":
        cohort.encoding = "utf-16"
    elif defect == "semicolon":
        cohort.delimiter = ";"
    return cohort


def render(cohort: CohortFile, prefix: str) -> tuple[bytes, dict[int, Row]]:
    """The file's bytes and each data row by the spreadsheet line it must be reported at."""
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=cohort.delimiter, lineterminator=cohort.line_end, quoting=cohort.quoting
    )
    # Python's writer leaves a lone CR unquoted when the line end is LF; a spreadsheet would
    # quote it, so such rows are written fully quoted (else the file really has another row).
    quoted = csv.writer(
        out, delimiter=cohort.delimiter, lineterminator=cohort.line_end, quoting=csv.QUOTE_ALL
    )
    writer.writerow(cohort.header)
    lines: dict[int, Row] = {}
    line = 1
    for index, row in enumerate(cohort.rows):
        if index in cohort.blank_after:
            writer.writerow([""] * len(cohort.header))  # Excel's ",,,,": skipped, still a line
            line += 1
        row.cells["pathway_id"] = "" if row.defect == "pathway_id" else f"{prefix}-{index}"
        cells = [row.cells.get(name.strip().lower(), "") for name in cohort.header]
        (quoted if any("\r" in cell for cell in cells) else writer).writerow(cells)
        line += 1
        lines[line] = row
    text = out.getvalue()
    try:
        return text.encode(cohort.encoding), lines
    except UnicodeEncodeError:  # a name Windows-1252 cannot hold
        return text.encode("utf-8"), lines


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cohort=cohort_files())
def test_a_hostile_file_never_crashes_and_loses_no_good_row(
    db_session: Session, tmp_path: Path, cohort: CohortFile
) -> None:
    number = next(_files)
    prefix = f"FZ{number}"
    content, lines = render(cohort, prefix)
    path = tmp_path / f"fuzz-{number}.csv"
    path.write_bytes(content)

    if cohort.file_defect is not None:
        try:
            run_import(db_session, path, name=prefix)
        except DomainError as refused:
            assert str(refused)
        else:
            raise AssertionError(f"a file with {cohort.file_defect} was not refused")
        job = db_session.scalars(select(ImportJob).order_by(ImportJob.id.desc())).first()
        assert job is not None and job.status is ImportStatus.FAILED
        assert not db_session.scalars(
            select(Pathway.id).where(Pathway.pathway_id.startswith(f"{prefix}-"))
        ).first()
        return

    report = run_import(db_session, path, name=prefix, chunk_rows=5)

    assert report.status is ImportStatus.SUCCEEDED
    reported: dict[int, set[str | None]] = {}
    for error in report.errors:
        assert error["message"]
        reported.setdefault(error["line"], set()).add(error["column"])
    bad = {line: row.defect for line, row in lines.items() if row.defect}
    assert set(reported) == set(bad), (reported, bad)
    for line, column in bad.items():
        assert column in reported[line], (line, column, reported[line])
    good = {f"{prefix}-{i}" for i, row in enumerate(cohort.rows) if row.defect is None}
    counts = report.counts
    assert counts["imported"] + counts["updated"] + counts["unchanged"] == len(good)
    assert counts["rejected"] == len(bad)
    stored = db_session.execute(
        select(Pathway.pathway_id, Pathway.status).where(
            Pathway.pathway_id.startswith(f"{prefix}-")
        )
    ).all()
    assert {pathway_id for pathway_id, _ in stored} == good
    assert all(status is PathwayStatus.OPEN for _, status in stored)
