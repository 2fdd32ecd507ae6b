"""Driver-level bulk statements shared by the import and the rule evaluation.

SQLAlchemy's per-parameter type processing costs more than the database itself at a million
rows, so the hot paths hand plain values to the driver's ``executemany``. This module knows how
each driver wants its placeholders and values for the column types we use (``AwareDateTime``,
``Date``, ``JSON``), so what is written reads back through the ORM exactly as ORM writes do.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection


@dataclass(frozen=True)
class Dialect:
    """How one driver wants its SQL and values."""

    placeholder: str
    distinct: str
    date: Callable[[dt.date | None], Any]
    timestamp: Callable[[dt.datetime], Any]
    json: Callable[[list[str]], Any]


def _sqlite_date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _sqlite_timestamp(value: dt.datetime) -> str:
    # AwareDateTime stores naive UTC on SQLite, in SQLAlchemy's DATETIME text format.
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _json_list(value: list[str]) -> str:
    # Most pathways have no flags and no diagnosis codes: json.dumps([]) is "[]".
    return json.dumps(value) if value else "[]"


_SQLITE = Dialect("?", "IS NOT", _sqlite_date, _sqlite_timestamp, _json_list)
_POSTGRESQL = Dialect("%s", "IS DISTINCT FROM", lambda v: v, lambda v: v, _json_list)


def dialect(connection: Connection) -> Dialect:
    """The conventions of the connection's driver."""
    return _POSTGRESQL if connection.dialect.name == "postgresql" else _SQLITE


def marks(sql: Dialect, count: int) -> str:
    """``count`` placeholders separated by commas."""
    return ", ".join([sql.placeholder] * count)


IN_BLOCK = 500
"""Values per ``IN (...)`` list: one fixed size keeps the SQL text, and so the driver's cache of
prepared statements, constant (SQLite caches 128 statements per connection; a 10,000-parameter
statement per distinct list length grew memory by megabytes per chunk)."""


def in_blocks(values: Sequence[Any], size: int = IN_BLOCK) -> Iterator[tuple[Any, ...]]:
    """``values`` in blocks of exactly ``size``, the last padded by repeating its last value."""
    for start in range(0, len(values), size):
        block = tuple(values[start : start + size])
        yield block + (block[-1],) * (size - len(block))
