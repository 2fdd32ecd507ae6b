"""Cells that are safe to open in a spreadsheet: the one writer every CSV export uses.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a line break (or the full-width forms)
is run as a formula by Excel, LibreOffice and Google Sheets (CSV injection). Such a cell is
written with a leading ``'`` (OWASP's advice): the value stays readable and a loader can strip
one leading ``'``. Numbers pass untouched, and so does a plain negative number such as
``-0.25``, which a spreadsheet reads as that number and nothing more.

This module sits at the top of ``app`` and imports nothing from it, so the cohort import (which
refuses formula-like names), the review export and the campaign lists can all use it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_NEGATIVE_NUMBER = re.compile(r"-[0-9]+(?:\.[0-9]+)?")

Cell = str | int | float | None


def safe_cell(value: Cell) -> str | int | float:
    """``value`` as a spreadsheet will show it and never run it."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return value
    if value.startswith(FORMULA_TRIGGERS) and not _NEGATIVE_NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` (RFC 4180, CRLF line ends) that passes every cell through ``safe_cell``."""

    def __init__(self, out: IO[str]) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, cells: Iterable[Cell]) -> None:
        """Write one row."""
        self._writer.writerow([safe_cell(cell) for cell in cells])

    def writerows(self, rows: Iterable[Iterable[Cell]]) -> None:
        """Write every row."""
        for row in rows:
            self.writerow(row)
