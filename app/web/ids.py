"""Row ids as the web layer accepts them: positive integers the database can hold.

Every id column is a 64-bit integer (BIGINT on PostgreSQL, INTEGER on SQLite). A larger number
cannot name a row, and handing one to the driver fails there (``OverflowError``,
``NumericValueOutOfRange``) as a 500. So every route takes ids through :data:`RowId`, which
refuses such a number with 422, exactly as it refuses ``abc``: it is not an id at all, so the
answer is "invalid", not "not found".
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Ge, Le

MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Ge(1), Le(MAX_ROW_ID)]


def row_id_or_none(text: str | None) -> int | None:
    """An id typed into a free-text filter, or None where it cannot name a row."""
    value = (text or "").strip()
    if not value.isdecimal() or not value.isascii():
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ROW_ID else None
