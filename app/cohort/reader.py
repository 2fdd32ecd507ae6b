"""Streaming the rows of a cohort file, numbered as a spreadsheet numbers them."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from app.cohort.columns import Header, match_header


def read_rows(path: Path, *, encoding: str) -> tuple[Header, Iterator[tuple[int, list[str]]]]:
    """The matched header and an iterator of ``(line, cells)``; the header is line 1.

    A record whose quoted cell spans several physical lines is still one spreadsheet row, so the
    line is counted in records, not newlines. Rows with every cell empty (Excel's trailing
    ``,,,,``) are skipped.
    """
    handle = path.open(encoding=encoding, newline="")
    reader = csv.reader(handle)
    try:
        header = match_header(next(reader, []))
    except BaseException:
        handle.close()
        raise

    def rows() -> Iterator[tuple[int, list[str]]]:
        with handle:
            for line, cells in enumerate(reader, start=2):
                if any(cells):
                    yield line, cells

    return header, rows()
