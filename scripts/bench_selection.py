"""The day's due-pathway selection over a national list, against the bare indexed SELECT.

    PYTHONPATH=. python scripts/bench_selection.py --pathways 7500000 \
        [--server postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--limit 125000]

Builds a scratch PostgreSQL database (migrated, then dropped at the end) holding one cohort of
``--pathways`` open pathways for 80% as many patients, filled in bulk by ``INSERT ... SELECT
generate_series`` with the secondary indexes and foreign keys dropped and rebuilt after (as a
restore would): next due dates spread over twelve weeks of working days (about 1/60 of the list
due each working day, a few overdue), 2% closed pathways, 2.5% with a round under way (and no due
date), a third with an earlier closed round, 5% excluded by a rule, a tenth of patients preferring
Polish (no approved translation: each is handed to a person). Then ``ANALYZE``.

It times, for the schedule's default window (today plus 7 days) and ``--limit`` (the daily
limit), four things in alternating rounds, each with the wall time, the client's CPU, the
PostgreSQL backend's CPU (from ``/proc``) and the client's memory growth holding the rows:

- **bare**: the compiled SQL of ``due_selection`` through the psycopg cursor, rows as tuples;
- **query**: ``session.execute(due_selection(...)).all()``, as ``run_schedule`` runs it (ORM
  pathways and patients);
- **selection**: the query plus the two batched look-ups ``run_schedule`` makes before its loop
  (each pathway's latest round and its latest validation date);
- **planning**: ``run_schedule`` itself, the whole daily stage (selection, eligibility, a new
  round for each chosen pathway, its first call and its pre-call text), rolled back after each
  round so every round plans the same day; the per-pathway figure is this over the pathways
  planned.

``EXPLAIN (ANALYZE, BUFFERS)`` of the statement is printed.
"""

# The generators build SQL from constant fragments of this file, never from input.
# ruff: noqa: S608
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from app.campaigns.schedules import create_schedule, due_selection, run_schedule
from app.db import make_engine
from app.flows import load_registry
from app.models import ValidationSchedule
from app.schema import upgrade
from app.validation import rounds

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 12, 7)  # a Monday
WORKING_DAYS = 60  # twelve weeks
# The standing campaign plans in its calling windows: 09:30 London on TODAY, inside them.
PLANNED_AT = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc), immune to other load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def scratch_database(server: str, prefix: str) -> Iterator[str]:
    """A fresh migrated PostgreSQL database, dropped afterwards whatever happens."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url, ROOT / "migrations")
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def without_secondary_indexes(connection: Connection, tables: list[str]) -> Iterator[None]:
    """Drop the tables' indexes and constraints other than primary keys; rebuild them after.

    Foreign keys come back ``NOT VALID`` (the generator's ids are right by construction, and
    validating 7.5 million references would double the fill time); the planner does not use them.
    """
    constraints = connection.execute(
        text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype "
            "FROM pg_constraint WHERE conrelid::regclass::text = ANY(:tables) "
            "AND contype IN ('u', 'f')"
        ),
        {"tables": tables},
    ).all()
    # Foreign keys of other tables pointing at these would block dropping their unique keys.
    indexes = connection.execute(
        text(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE tablename = ANY(:tables) AND indexname NOT LIKE 'pk\\_%' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
        ),
        {"tables": tables},
    ).all()
    for table, name, _, _kind in sorted(constraints, key=lambda c: c[3] != "f"):
        connection.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
    for _, name, _ in indexes:
        connection.execute(text(f'DROP INDEX "{name}"'))
    connection.commit()
    yield
    for _, _, definition in indexes:
        connection.execute(text(definition))
    for table, name, definition, kind in sorted(constraints, key=lambda c: c[3] == "f"):
        suffix = " NOT VALID" if kind == "f" else ""
        connection.execute(
            text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}{suffix}')
        )
    connection.commit()


def fill(connection: Connection, pathways: int) -> int:
    """One national cohort of ``pathways`` pathways; returns the cohort's id."""
    patients = max(1, pathways * 4 // 5)
    cohort_id = connection.execute(
        text("INSERT INTO cohort (name, created_at) VALUES ('national', now()) RETURNING id")
    ).scalar_one()
    connection.commit()
    with without_secondary_indexes(
        connection, ["patient", "pathway", "validation_round", "exclusion"]
    ):
        connection.execute(
            text(
                "INSERT INTO patient (id, nhs_number, given_name, family_name, date_of_birth,"
                " sex, imd_decile, ethnic_category, preferred_language, interpreter_required,"
                " mobile_phone, created_at, updated_at)"
                " SELECT n, '9' || lpad(n::text, 9, '0'), 'A', 'B',"
                " date '1935-01-01' + ((n * 7919) % 25000)::int, ((n % 2) + 1)::text, 1 + n % 10,"
                " substr('ABCHJMNRZ', (1 + n % 9)::int, 1),"
                " CASE WHEN (n / 7) % 10 = 0 THEN 'pl' ELSE 'en' END,"
                " false, '+4479' || lpad(n::text, 8, '0'), now(), now()"
                " FROM generate_series(1::bigint, :patients) AS n"
            ),
            {"patients": patients},
        )
        # Working day k (0 = today, a Monday) is Monday + 7 * (k / 5) + k % 5 days.
        connection.execute(
            text(
                "INSERT INTO pathway (id, provider_code, pathway_id, patient_id, cohort_id,"
                " status, specialty_code, clock_start_date, flags, diagnosis_codes, row_hash,"
                " outcome, next_due_date, created_at, updated_at)"
                " SELECT n, 'R' || lpad((n % 150)::text, 3, '0'), 'P' || n,"
                " 1 + (n - 1) % :patients, :cohort,"
                " CASE WHEN n % 50 = 0 THEN 'closed' ELSE 'open' END,"
                " (ARRAY['100', '101', '110', '120', '130', '140', '300', '320', '330', '502'])"
                "[(1 + n % 10)::int],"
                " :today - 30 - ((n * 31) % 700)::int, '[]', '[]', 'h',"
                " CASE WHEN n % 5000 = 3 THEN 'reported_deceased' ELSE 'pending' END,"
                " CASE WHEN n % 40 = 1 THEN NULL"
                "      WHEN n % 1000 < 3 THEN :today - 1 - (n % 20)::int"
                "      ELSE :today + (7 * ((n * 7) % 60 / 5) + (n * 7) % 60 % 5)::int END,"
                " now(), now()"
                " FROM generate_series(1::bigint, :pathways) AS n"
            ),
            {"patients": patients, "cohort": cohort_id, "pathways": pathways, "today": TODAY},
        )
        connection.execute(
            text(
                "INSERT INTO validation_round (pathway_id, number, status, due_date, reason,"
                " outcome, recorded, validated_date, validated_by, opened_at, closed_at)"
                " SELECT n, 1, 'closed', :today - 84, 'campaign', 'stay', '{}', :today - 84,"
                " 'patient', now(), now()"
                " FROM generate_series(3, :pathways, 3) AS n"
            ),
            {"pathways": pathways, "today": TODAY},
        )
        connection.execute(
            text(
                "INSERT INTO validation_round (pathway_id, number, status, due_date, reason,"
                " outcome, recorded, opened_at)"
                " SELECT n, CASE WHEN n % 3 = 0 THEN 2 ELSE 1 END, 'open', :today - 3,"
                " 'schedule', 'pending', '{}', now()"
                " FROM generate_series(1, :pathways, 40) AS n"
            ),
            {"pathways": pathways, "today": TODAY},
        )
        connection.execute(
            text(
                "INSERT INTO exclusion (pathway_id, rule_id, reason, rule_set_hash, evaluated_at)"
                " SELECT n, 'deceased', 'r', 'h', now() FROM generate_series(7, :pathways, 20) n"
            ),
            {"pathways": pathways},
        )
        connection.commit()
    for table in ("patient", "pathway"):
        sequence = f"pg_get_serial_sequence('{table}', 'id')"
        connection.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
    connection.commit()
    return int(cohort_id)


class Sample:
    """Wall, client CPU, backend CPU and memory growth of one run."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.backend: list[float] = []
        self.memory: list[float] = []
        self.rows = 0

    def summary(self) -> dict[str, float | int]:
        """Medians of the rounds."""
        return {
            "rows": self.rows,
            "wall_s": round(statistics.median(self.wall), 3),
            "client_cpu_s": round(statistics.median(self.cpu), 3),
            "postgres_cpu_s": round(statistics.median(self.backend), 3),
            "rss_growth_mb": round(statistics.median(self.memory), 1),
        }


def measure(sample: Sample, backend_pid: int, action: Callable[[], Any]) -> None:
    """Run ``action`` once, adding its costs to ``sample``."""
    rss, cpu, backend = rss_mb(), time.process_time(), cpu_seconds(backend_pid)
    began = time.perf_counter()
    result = action()
    sample.wall.append(time.perf_counter() - began)
    sample.cpu.append(time.process_time() - cpu)
    sample.backend.append(cpu_seconds(backend_pid) - backend)
    sample.memory.append(rss_mb() - rss)
    sample.rows = len(result)
    del result


def run(engine: Engine, cohort_id: int, limit: int, repeat: int) -> dict[str, Any]:
    """The bare SELECT, the production query and the selection stage, in alternating rounds."""
    horizon = TODAY + dt.timedelta(days=7)
    query = due_selection(cohort_id, horizon, limit)
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    results = {"bare": Sample(), "query": Sample(), "selection": Sample(), "planning": Sample()}
    raw = engine.raw_connection()
    raw_pid = _backend_pid(raw)

    def bare() -> list[Any]:
        with raw.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
        raw.rollback()
        return rows

    def production(session: Session, *, lookups: bool) -> Callable[[], list[Any]]:
        def action() -> list[Any]:
            rows = session.execute(query).all()
            if lookups:
                ids = [pathway.id for pathway, _ in rows]
                rounds.current_rounds(session, ids)
                rounds.validated_dates(session, ids)
            session.rollback()
            session.expunge_all()
            return rows

        return action

    skipped: dict[str, int] = {}

    def planning(session: Session, schedule_id: int) -> Callable[[], list[Any]]:
        def action() -> list[Any]:
            schedule = session.get(ValidationSchedule, schedule_id)
            assert schedule is not None
            daily = run_schedule(session, schedule=schedule, now=PLANNED_AT)
            skipped.update(daily.skipped)
            session.rollback()  # the next round plans the same day again
            session.expunge_all()
            return [None] * daily.planned

        return action

    with Session(engine) as session:
        schedule_id = _schedule(session, cohort_id, limit)
        session_pid = int(session.scalar(text("SELECT pg_backend_pid()")) or 0)
        session.rollback()
        bare()  # warm the cache: every round then reads the same pages from shared memory
        for _ in range(repeat):
            measure(results["bare"], raw_pid, bare)
            measure(results["query"], session_pid, production(session, lookups=False))
            measure(results["selection"], session_pid, production(session, lookups=True))
            measure(results["planning"], session_pid, planning(session, schedule_id))
        plan = "\n".join(
            row[0] for row in session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")).all()
        )
    raw.close()
    summary = {name: sample.summary() for name, sample in results.items()}
    for name in ("query", "selection", "planning"):
        summary[name]["ratio_wall"] = round(summary[name]["wall_s"] / summary["bare"]["wall_s"], 2)
        summary[name]["ratio_cpu"] = round(
            (summary[name]["client_cpu_s"] + summary[name]["postgres_cpu_s"])
            / (summary["bare"]["client_cpu_s"] + summary["bare"]["postgres_cpu_s"]),
            2,
        )
    per = summary["planning"]
    per["cpu_ms_per_pathway"] = round(
        1000 * (per["client_cpu_s"] + per["postgres_cpu_s"]) / max(per["rows"], 1), 3
    )
    return {
        "horizon": horizon.isoformat(),
        "limit": limit,
        "results": summary,
        "planning_skipped": skipped,
        "plan": plan,
    }


def _schedule(session: Session, cohort_id: int, limit: int) -> int:
    """The cohort's validation schedule and its standing campaign (simulated: no approval)."""
    schedule = create_schedule(
        session,
        registry=load_registry(ROOT / "call_flows"),
        name="national",
        cohort_id=cohort_id,
        flow_id="standard-validation",
        provider_name="simulator",
        account_calls_per_second=100.0,
        daily_limit=limit,
        calls_per_second=100.0,
        simulated=True,
        created_by="bench",
        now=PLANNED_AT,
    )
    session.commit()
    return schedule.id


def _backend_pid(raw: Any) -> int:
    with raw.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = int(cursor.fetchone()[0])
    raw.rollback()
    return pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pathways", type=int, default=200_000)
    parser.add_argument("--limit", type=int, default=None, help="default: 1/60 of --pathways")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    limit = args.limit or max(1, args.pathways // WORKING_DAYS)
    load_before = os.getloadavg()
    began_at = dt.datetime.now(dt.UTC)
    with scratch_database(args.server, "waitlist_bench_selection") as url:
        engine = make_engine(url)
        with engine.connect() as connection:
            started = time.perf_counter()
            cohort_id = fill(connection, args.pathways)
            filled = time.perf_counter() - started
            connection.execute(text("ANALYZE"))
            connection.commit()
            analyzed = time.perf_counter() - started - filled
            size = connection.scalar(
                text("SELECT pg_size_pretty(pg_database_size(current_database()))")
            )
        print(
            f"filled {args.pathways:,} pathways in {filled:.0f} s, ANALYZE {analyzed:.0f} s, {size}"
        )
        report = run(engine, cohort_id, limit, args.repeat)
        engine.dispose()
    report |= {
        "pathways": args.pathways,
        "fill_s": round(filled, 1),
        "database_size": size,
        "began_at": began_at.isoformat(timespec="seconds"),
        "ended_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_average": [load_before, os.getloadavg()],
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": f"{os.cpu_count()} cores {platform.machine()}, "
        f"Python {platform.python_version()}",
    }
    print(report.pop("plan"))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
