"""The worklist's escalation sweep and its overdue-first list at scale, beside the bare SQL.

Bulk-inserts synthetic patients, pathways (NHS numbers from the 999 test range) and open worklist
tasks into a fresh SQLite file (or an empty PostgreSQL database), a share of them overdue, then
measures p50/p95 of:

- the steady-state sweep (``escalate_overdue_tasks`` with nothing left to escalate: what every
  worker housekeeping pass, every few seconds, costs) beside the bare index-range SELECT it needs;
- the list's first page (overdue and safety-critical first, with its counts and audit) beside
  the bare SELECT of the same 100 ids in the same order.

    PYTHONPATH=. .venv/bin/python scripts/bench_escalation.py --tasks 100000
    PYTHONPATH=. .venv/bin/python scripts/bench_escalation.py --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session

from app.db import make_engine
from app.models import Cohort, Pathway, Patient, TaskReason, WorklistTask
from app.schema import upgrade
from app.worklist.escalation import escalate_overdue_tasks, escalation_due, list_order
from app.worklist.listing import TaskFilter, list_tasks
from scripts.bench_review import synthetic_nhs_numbers

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 12, 2)
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
BATCH = 20_000
REASONS = list(TaskReason)


def populate(engine: Engine, *, tasks: int) -> None:
    """One patient and pathway per task; every tenth task overdue (due 1-30 days ago)."""
    with engine.begin() as connection:
        cohort_id = connection.execute(insert(Cohort).values(name="bench")).inserted_primary_key[0]  # type: ignore[index]
    numbers = synthetic_nhs_numbers()
    for base in range(0, tasks, BATCH):
        ids = range(base + 1, min(base + BATCH, tasks) + 1)
        with engine.begin() as connection:
            connection.execute(
                insert(Patient),
                [
                    {
                        "id": n,
                        "nhs_number": next(numbers),
                        "given_name": "Ada",
                        "family_name": "Testpatient",
                        "date_of_birth": dt.date(1950, 1, 1),
                        "preferred_language": "en",
                        "interpreter_required": False,
                    }
                    for n in ids
                ],
            )
            connection.execute(
                insert(Pathway),
                [
                    {
                        "id": n,
                        "provider_code": "RXN",
                        "pathway_id": f"PW-{n:08d}",
                        "patient_id": n,
                        "cohort_id": cohort_id,
                        "specialty_code": "110",
                        "clock_start_date": dt.date(2026, 1, 1),
                        "flags": [],
                        "diagnosis_codes": [],
                        "row_hash": f"{n:064d}",
                    }
                    for n in ids
                ],
            )
            connection.execute(
                insert(WorklistTask),
                [
                    {
                        "id": n,
                        "pathway_id": n,
                        "patient_id": n,
                        "reason": REASONS[n % len(REASONS)],
                        "state": "open",
                        "safety_critical": n % 7 == 0,
                        "due_date": TODAY - dt.timedelta(days=1 + n % 30)
                        if n % 10 == 0
                        else TODAY + dt.timedelta(days=n % 10),
                        "created_at": NOW - dt.timedelta(days=20),
                    }
                    for n in ids
                ],
            )


def timed(run: Callable[[], object], *, repeat: int) -> list[float]:
    """Milliseconds of each of ``repeat`` runs after two warm-ups."""
    for _ in range(2):
        run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return times


def row(name: str, app_ms: list[float], bare_ms: list[float]) -> str:
    """One Markdown table row: p50/p95 of each and the ratio of the means."""
    p95 = statistics.quantiles
    ratio = statistics.mean(app_ms) / statistics.mean(bare_ms)
    return (
        f"| {name} | {statistics.median(app_ms):.2f} | {p95(app_ms, n=20)[18]:.2f} | "
        f"{statistics.median(bare_ms):.2f} | {p95(bare_ms, n=20)[18]:.2f} | {ratio:.0f}x |"
    )


def main() -> None:
    """Populate, escalate once, then measure the steady state and the list."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-escalation-")
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    upgrade(url, ROOT / "migrations")
    engine = make_engine(url)
    start = time.perf_counter()
    populate(engine, tasks=args.tasks)
    populated = time.perf_counter() - start

    with Session(engine) as session:
        start = time.perf_counter()
        first = escalate_overdue_tasks(session, now=NOW, today=TODAY, limit=args.tasks)
        session.commit()
        first_ms = (time.perf_counter() - start) * 1000

    def sweep() -> None:
        with Session(engine) as session:
            escalate_overdue_tasks(session, now=NOW, today=TODAY)
            session.commit()

    def bare_sweep() -> None:
        with engine.connect() as connection:
            connection.execute(select(WorklistTask.id).where(escalation_due(TODAY)).limit(500))

    def first_page() -> None:
        with Session(engine) as session:
            list_tasks(session, filters=TaskFilter(), actor="bench", today=TODAY)
            session.rollback()  # the audit rows of a view: not kept, so every run is alike

    def bare_page() -> None:
        with engine.connect() as connection:
            connection.execute(
                select(WorklistTask.id)
                .where(WorklistTask.state == "open")
                .order_by(*list_order(TODAY))
                .limit(100)
            ).all()

    print(
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {engine.dialect.name}, "
        f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{args.tasks:,} open tasks populated in {populated:.0f} s; the first sweep escalated "
        f"{first.escalated:,} in {first_ms:.0f} ms"
    )
    print("| scenario | app p50 ms | app p95 ms | bare SQL p50 ms | bare SQL p95 ms | app/SQL |")
    print("|---|---:|---:|---:|---:|---:|")
    print(
        row(
            "sweep, nothing to escalate",
            timed(sweep, repeat=args.repeat),
            timed(bare_sweep, repeat=args.repeat),
        )
    )
    print(
        row(
            "list, first page",
            timed(first_page, repeat=args.repeat),
            timed(bare_page, repeat=args.repeat),
        )
    )
    engine.dispose()


if __name__ == "__main__":
    main()
