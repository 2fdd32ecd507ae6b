"""Opening a cohort file of any accepted format as one stream of numbered rows.

CSV text and workbooks end in the same place: a matched header and ``(row number, cells)``, so
the row validation, the chunked writes and the reports never know which format the file was.
The format is told from the file's first bytes, not its name (an upload may be called anything).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.cohort.columns import Header, match_header
from app.cohort.encoding import scan_file
from app.cohort.mapping import ColumnMapping, Suggestion, suggest_mapping
from app.cohort.reader import Record, read_header_cells, read_rows
from app.cohort.workbook import read_workbook, sheet_header, workbook_format

_BLOCK = 1 << 20


@dataclass
class Source:
    """An opened cohort file: what it is, its header, and its rows still to be read."""

    file_format: str
    encoding: str | None
    sheet: str | None
    sha256: str
    expected_rows: int
    header: Header
    rows: Iterator[tuple[int, Record]]


def _format(path: Path) -> str | None:
    with path.open("rb") as handle:
        return workbook_format(handle.read(512))


def open_source(
    path: Path, *, sheet: str | None = None, mapping: ColumnMapping | None = None
) -> Source:
    """Open ``path`` (CSV or a workbook), its header matched through ``mapping``.

    ``sheet`` (or the mapping's) picks a workbook's sheet; a CSV file has none to pick.
    """
    lookup = mapping.lookup() if mapping else None
    chosen = sheet or (mapping.sheet if mapping else None)
    file_format = _format(path)
    if file_format is None:
        scan = scan_file(path)
        header, rows = read_rows(path, encoding=scan.encoding, mapping=lookup)
        return Source("csv", scan.encoding, None, scan.sha256, scan.lines - 1, header, rows)
    found = read_workbook(
        path,
        file_format=file_format,
        sheet=chosen,
        match=lambda cells: match_header(cells, mapping=lookup),
    )
    return Source(
        file_format,
        None,
        found.sheet,
        _digest(path),
        found.expected_rows,
        found.header,
        iter(found.rows),
    )


def read_header(path: Path, *, sheet: str | None = None) -> tuple[str, str | None, list[str]]:
    """The file's format, sheet and header cells, for proposing a column mapping."""
    file_format = _format(path)
    if file_format is None:
        return "csv", None, read_header_cells(path, encoding=scan_file(path).encoding)
    name, cells = sheet_header(path, file_format=file_format, sheet=sheet)
    return file_format, name, cells


@dataclass(frozen=True)
class HeaderSuggestion:
    """What a file's header is, and the mapping proposed for it."""

    file_format: str
    sheet: str | None
    header: list[str]
    suggestion: Suggestion


def suggest_for_stream(
    stream: BinaryIO, *, sheet: str | None = None, name: str | None = None
) -> HeaderSuggestion:
    """Propose a column mapping for an uploaded file (spooled to disk: memory stays flat)."""
    with tempfile.TemporaryDirectory(prefix="waitlist-header-") as directory:
        path = Path(directory) / "upload"
        with path.open("wb") as target:
            shutil.copyfileobj(stream, target, length=_BLOCK)
        file_format, found_sheet, header = read_header(path, sheet=sheet)
    suggestion = suggest_mapping(header, name=name)
    return HeaderSuggestion(file_format, found_sheet, header, suggestion)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()
