"""What SQL a piece of work sends: statements counted by a label the caller sets, and the
database's plan for one statement.

A count or a plan, unlike a time, does not move with the machine's load, so it can be held in a
test (``tests/web/webhooks/test_statement_budget.py``, the ``*_plan.py`` tests) and compared
across benchmark runs (``scripts/profile_webhooks.py --statements``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

COMMIT = "COMMIT"


class StatementCounter:
    """Statements per label: ``label`` names the work under way (a webhook's kind, say)."""

    def __init__(self) -> None:
        self.label = ""
        self.runs: Counter[str] = Counter()
        self.statements: Counter[tuple[str, str]] = Counter()

    def start(self, label: str) -> None:
        """What follows is one run of ``label``."""
        self.label = label
        self.runs[label] += 1

    def per_run(self, label: str) -> dict[str, float]:
        """Each statement's count per run of ``label`` (its first 90 characters, whitespace
        folded; ``COMMIT`` for a commit)."""
        runs = self.runs[label] or 1
        mine = {s: n / runs for (k, s), n in self.statements.items() if k == label}
        return dict(sorted(mine.items(), key=lambda item: -item[1]))

    def total(self, label: str) -> float:
        return sum(self.per_run(label).values())

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements[(self.label, " ".join(statement.split())[:90])] += 1

    def _commit(self, _conn: Any) -> None:
        self.statements[(self.label, COMMIT)] += 1


@contextmanager
def counting_statements() -> Iterator[StatementCounter]:
    """Count what every engine in this process sends until the block ends."""
    counter = StatementCounter()
    event.listen(Engine, "before_cursor_execute", counter._statement)
    event.listen(Engine, "commit", counter._commit)
    try:
        yield counter
    finally:
        event.remove(Engine, "before_cursor_execute", counter._statement)
        event.remove(Engine, "commit", counter._commit)


def query_plan(session: Session, statement: ClauseElement) -> str:
    """The database's plan for ``statement`` (bound values inlined), one line a step.

    On PostgreSQL sequential scans are forbidden for the rest of the transaction: a tiny test
    table is cheaper to scan, and the question is whether an index can serve the statement.
    """
    dialect = session.get_bind().dialect
    compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    if dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(row[0] for row in session.execute(text(f"EXPLAIN {compiled}")))
    rows = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    return "\n".join(str(row[-1]) for row in rows)
