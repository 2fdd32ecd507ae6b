"""Streaming the rows of a cohort file, numbered as a spreadsheet numbers them.

Memory is bounded per row, not only per file: a row (every physical line of one record) may hold
at most ``ROW_LIMIT`` characters. That is twice Excel's own cell limit (32,767 characters) and
thirty times the longest valid cohort row, yet stays below the ``csv`` module's field limit
(131,072), so the ``csv`` module never fails on size: an over-long row is found here first,
skipped to its end (quotes respected, so a quoted cell spanning lines is skipped whole) and
reported as that row's error, and the rows after it still import.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TextIO

from app.cohort.columns import Header, match_header
from app.cohort.rows import RowError
from app.errors import InvalidInputError

ROW_LIMIT = 65_536
_BLOCK = 1 << 16
_SPECIAL = re.compile(r'[",\r\n]')

Record = list[str] | RowError


class _OverlongRow(Exception):  # noqa: N818 - a signal between two parts of this module
    """Raised through ``csv.reader`` when a row passes ``ROW_LIMIT``; ``field`` is its index."""

    def __init__(self, field: int) -> None:
        super().__init__(field)
        self.field = field


class _RecordScanner:
    """Where a record ends and which field a position is in, as ``csv``'s default dialect reads.

    Only quotes, commas and line ends change the state, so runs of other characters are jumped
    over at C speed.
    """

    START, FIELD, QUOTED, QUOTE = range(4)

    def __init__(self) -> None:
        self.state = self.START
        self.field = 0

    def feed(self, text: str) -> int | None:
        """Consume ``text``; the index just past the record's end, or None if it goes on."""
        pos, size = 0, len(text)
        while pos < size:
            if self.state == self.QUOTED:
                quote = text.find('"', pos)
                if quote < 0:
                    return None
                self.state, pos = self.QUOTE, quote + 1
                continue
            match = _SPECIAL.search(text, pos)
            end = match.start() if match else size
            if end > pos and self.state in (self.START, self.QUOTE):
                self.state = self.FIELD
            if match is None:
                return None
            char, pos = match.group(), end + 1
            if char == ",":
                self.field += 1
                self.state = self.START
            elif char == '"':
                if self.state != self.FIELD:  # a literal quote inside an unquoted cell
                    self.state = self.QUOTED
            else:
                return pos
        return None


class _BoundedLines:
    """Physical lines for ``csv.reader``, refusing any record longer than ``ROW_LIMIT``."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.record: list[str] = []
        self.used = 0

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        budget = ROW_LIMIT - self.used
        line = self.handle.readline(budget + 1)
        if not line:
            raise StopIteration
        if len(line) > budget:
            field = self._skip_record(line)
            self.record_done()
            raise _OverlongRow(field)
        self.record.append(line)
        self.used += len(line)
        return line

    def record_done(self) -> None:
        """The csv reader finished a record: the next line starts a new one."""
        self.record.clear()
        self.used = 0

    def _skip_record(self, line: str) -> int:
        """Read to the end of the over-long record; the index of the field that overflowed."""
        scanner = _RecordScanner()
        for earlier in self.record:
            scanner.feed(earlier)
        # ``line`` ends with the first character over the limit; the field that filled the row
        # is blamed, even when that character is the comma after it.
        scanner.feed(line[:-1])
        field = scanner.field
        piece = line[-1]
        ended = scanner.feed(piece)
        while ended is None:
            piece = self.handle.readline(_BLOCK)
            if not piece:
                return field
            ended = scanner.feed(piece)
        if piece.endswith("\r") and ended == len(piece):
            # readline may have cut a CRLF in two; the LF belongs to this record's end.
            position = self.handle.tell()
            if self.handle.read(1) != "\n":
                self.handle.seek(position)
        return field


def read_header_cells(path: Path, *, encoding: str) -> list[str]:
    """The header row's cells as written (for proposing a column mapping)."""
    with path.open(encoding=encoding, newline="") as handle:
        lines = _BoundedLines(handle)
        try:
            return next(csv.reader(lines), [])
        except _OverlongRow as exc:
            raise InvalidInputError(
                f"the header row (line 1) is longer than {ROW_LIMIT:,} characters"
            ) from exc
        except csv.Error as exc:
            raise InvalidInputError(f"line 1 cannot be read as CSV ({exc})") from exc


def read_rows(
    path: Path, *, encoding: str, mapping: Mapping[str, str] | None = None
) -> tuple[Header, Iterator[tuple[int, Record]]]:
    """The header (matched through ``mapping``) and an iterator of ``(line, cells or error)``.

    The header is line 1. A record whose quoted cell spans several physical lines is still one
    spreadsheet row, so the line is counted in records, not newlines. Rows with every cell empty
    (Excel's trailing ``,,,,``) are skipped.
    """
    handle = path.open(encoding=encoding, newline="")
    lines = _BoundedLines(handle)
    reader = csv.reader(lines)
    try:
        try:
            header_cells = next(reader, [])
        except _OverlongRow as exc:
            raise InvalidInputError(
                f"the header row (line 1) is longer than {ROW_LIMIT:,} characters; "
                "the first row of the file must name the columns"
            ) from exc
        lines.record_done()
        header = match_header(header_cells, mapping=mapping)
    except BaseException:
        handle.close()
        raise
    names = {index: name for name, index in header.positions.items()}

    def column(field: int) -> str:
        if field in names:
            return names[field]
        if field < len(header_cells) and header_cells[field].strip():
            return header_cells[field].strip()[:64]
        return f"column {field + 1}"

    def rows() -> Iterator[tuple[int, Record]]:
        line = 1
        with handle:
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except _OverlongRow as exc:
                    line += 1
                    name = column(exc.field)
                    yield (
                        line,
                        RowError(
                            line,
                            name,
                            f"{name} makes the row longer than {ROW_LIMIT:,} characters "
                            "(no valid row is anywhere near that long); the row was skipped",
                        ),
                    )
                    continue
                except csv.Error as exc:
                    raise InvalidInputError(
                        f"line {line + 1} cannot be read as CSV ({exc}); "
                        "save the file as 'CSV UTF-8 (Comma delimited)' and upload it again"
                    ) from exc
                lines.record_done()
                line += 1
                if any(cells):
                    yield line, cells

    return header, rows()
