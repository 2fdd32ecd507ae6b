"""The daily selection reads the due-date index, not the whole list (on both databases)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.campaigns.schedules import due_selection


def _plan(session: Session) -> str:
    query = due_selection(1, dt.date(2026, 11, 30), 500)
    compiled = query.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    if session.get_bind().dialect.name == "postgresql":
        # A tiny test table is cheaper to scan; forbidding scans shows the index can serve it.
        session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = session.execute(text(f"EXPLAIN {compiled}")).all()
        return "\n".join(row[0] for row in rows)
    rows = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_the_daily_selection_is_a_range_of_the_due_date_index(db_session: Session) -> None:
    plan = _plan(db_session)
    assert "ix_pathway_next_due" in plan, plan
