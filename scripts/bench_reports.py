"""How long a campaign report takes over a region's quarter, against a bare scan of the same rows.

    python scripts/bench_reports.py --pathways 30000 [--database-url URL]

Fills a fresh migrated database (a temporary SQLite file unless a URL is given) with one
campaign: pathways with demographics, 1-3 attempts each, outcomes, exclusions and decisions. Then
times ``build_campaign_report`` (every section, including five equity breakdowns) and, as the bare
limit measured in the same run, one aggregate pass over the same tables (pathways joined to
patients, plus attempts): the least work any report of these rows must do. Prints the ratio.
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
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import make_engine
from app.models import (
    CallScript,
    Campaign,
    Cohort,
    ContactAttempt,
    Pathway,
    PathwayOutcome,
    Patient,
    User,
)
from app.reports.campaign import build_campaign_report
from app.reports.dashboard import build_dashboard
from app.schema import upgrade
from scripts.bench_selection import cpu_seconds, scratch_database, without_secondary_indexes

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
START = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 4, 1, 12, tzinfo=dt.UTC)
BULK_TABLES = (
    "patient",
    "pathway",
    "exclusion",
    "contact_attempt",
    "pathway_outcome",
    "validation_round",
    "review_item",
    "clinical_decision",
)


# Dialect fragments for the bulk generator: SQLite and PostgreSQL spell these differently.
_SQL = {
    "postgresql": {
        "numbers": "CREATE TEMP TABLE seq AS SELECT n FROM generate_series(1::bigint, :n) AS n",
        "nhs": "'999' || lpad(n::text, 7, '0')",
        "born": "date '1935-01-01' + ((n * 7919) % 25000)::int",
        "ethnic": "substr('ABCHJMNRZ', (1 + n % 9)::int, 1)",
        "specialty": "(ARRAY['110', '120', '130', '101'])[(1 + (n * 3) % 4)::int]",
        "at": "(timestamptz '2026-03-02 09:00+00' + k * interval '1 day'"
        " + ((n * 23) % 600) * interval '1 minute')",
        "start": "timestamptz '2026-03-02 09:00+00'",
        "true": "true",
        "false": "false",
        "validated": "date '2026-03-03'",
    },
    "sqlite": {
        "numbers": "CREATE TEMP TABLE seq AS WITH RECURSIVE s(n) AS"
        " (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n) SELECT n FROM s",
        "nhs": "printf('999%07d', n)",
        "born": "date('1935-01-01', '+' || ((n * 7919) % 25000) || ' days')",
        "ethnic": "substr('ABCHJMNRZ', 1 + n % 9, 1)",
        "specialty": "CASE (n * 3) % 4 WHEN 0 THEN '110' WHEN 1 THEN '120'"
        " WHEN 2 THEN '130' ELSE '101' END",
        "at": "(strftime('%Y-%m-%d %H:%M:%S', '2026-03-02 09:00:00', '+' || k || ' days',"
        " '+' || ((n * 23) % 600) || ' minutes') || '.000000')",
        "start": "'2026-03-02 09:00:00.000000'",
        "true": "1",
        "false": "0",
        "validated": "'2026-03-03'",
    },
}

# Per pathway n (deterministic, so every backend and every run gets the same rows): excluded by
# a rule when n % 20 = 7; else 1-3 attempts, answered (the last attempt) for 70%, and an outcome.
_TRIES = "(1 + (n * 13) % 3)"
_ANSWERED = "((n * 17) % 10 < 7)"
_OUTCOME = (
    f"CASE WHEN NOT {_ANSWERED} THEN 'unreachable' WHEN (n * 19) % 3 = 0 THEN 'stay'"
    " WHEN (n * 19) % 3 = 1 THEN 'leave' ELSE 'unclear' END"
)


def fill(session: Session, pathways: int) -> int:
    """One campaign over ``pathways`` synthetic pathways, generated in SQL; returns its id.

    One patient per pathway, four specialties, 5% excluded, 1-3 attempts each (the third by
    SMS), 70% answered (stay, leave or unclear; the rest unreachable), a validation round per
    outcome, a review item per leave and a removal decided on half of them.
    """
    sql = _SQL[session.get_bind().dialect.name]
    cohort = Cohort(name="bench")
    script = CallScript(
        flow_id="bench",
        version=1,
        content_hash="0" * 64,
        title="b",
        language="en-GB",
        content="spec: 1",
    )
    clinician = User(username="bench-clinician", full_name="Dr Bench (synthetic)")
    session.add_all([cohort, script, clinician])
    session.flush()
    campaign = Campaign(
        name="bench", cohort_id=cohort.id, call_script_id=script.id, started_at=START
    )
    session.add(campaign)
    session.flush()
    ids = {"cohort": cohort.id, "campaign": campaign.id, "user": clinician.id}
    statements = [
        sql["numbers"],
        "INSERT INTO patient (id, nhs_number, given_name, family_name, date_of_birth, sex,"
        " imd_decile, ethnic_category, preferred_language, interpreter_required, created_at,"
        f" updated_at) SELECT n, {sql['nhs']}, 'A', 'B', {sql['born']}, ''||(1 + n % 2),"
        f" 1 + (n * 7) % 10, {sql['ethnic']}, CASE WHEN n % 10 = 3 THEN 'pl' ELSE 'en' END,"
        f" {sql['false']}, {sql['start']}, {sql['start']} FROM seq",
        "INSERT INTO pathway (id, provider_code, pathway_id, patient_id, cohort_id, status,"
        " specialty_code, clock_start_date, flags, diagnosis_codes, row_hash, outcome,"
        " last_answer_at, created_at, updated_at) SELECT n, 'RXX', 'P' || n, n, :cohort,"
        f" 'open', {sql['specialty']}, '2025-06-01', '[]', '[]', 'h', 'pending',"
        # The time of the definitive answer below, as record_outcome keeps it.
        f" CASE WHEN n % 20 <> 7 AND {_OUTCOME} IN ('stay', 'leave', 'worsened')"
        f" THEN {sql['start']} END, {sql['start']}, {sql['start']} FROM seq",
        "INSERT INTO exclusion (pathway_id, rule_id, reason, rule_set_hash, evaluated_at)"
        f" SELECT n, 'deceased', 'r', 'h', {sql['start']} FROM seq WHERE n % 20 = 7",
        "INSERT INTO contact_attempt (campaign_id, pathway_id, patient_id, attempt_number,"
        " channel, status, token, due_at, placed_at, answered_at, duration_seconds, fence,"
        " retry_count, conversation, created_at, updated_at)"
        " SELECT :campaign, n, n, k, CASE WHEN k = 3 THEN 'sms' ELSE 'voice' END,"
        f" CASE WHEN k = {_TRIES} AND {_ANSWERED} THEN 'completed' ELSE 'no_answer' END,"
        f" 't' || n || '-' || k, {sql['at']}, {sql['at']},"
        f" CASE WHEN k = {_TRIES} AND {_ANSWERED} THEN {sql['at']} END,"
        f" CASE WHEN k = {_TRIES} AND {_ANSWERED} THEN 30 + (n * 29) % 171 END,"
        f" 0, 0, '{{}}', {sql['start']}, {sql['start']}"
        " FROM seq JOIN (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) AS tries"
        f" ON k <= {_TRIES} WHERE n % 20 <> 7",
        "INSERT INTO pathway_outcome (id, pathway_id, campaign_id, outcome, recorded,"
        f" recorded_at) SELECT n, n, :campaign, {_OUTCOME}, '{{}}', {sql['start']}"
        " FROM seq WHERE n % 20 <> 7",
        "INSERT INTO validation_round (pathway_id, number, status, due_date, reason,"
        " campaign_id, outcome, pathway_outcome_id, willing_to_travel, recorded,"
        " validated_date, validated_by, opened_at, closed_at)"
        f" SELECT n, 1, 'closed', '2026-03-02', 'campaign', :campaign, {_OUTCOME}, n,"
        f" CASE WHEN n % 4 = 0 THEN {sql['true']} WHEN n % 4 = 1 THEN {sql['false']} END,"
        f" '{{}}', CASE WHEN {_OUTCOME} = 'stay' THEN {sql['validated']} END,"
        f" CASE WHEN {_OUTCOME} = 'stay' THEN 'patient' END, {sql['start']}, {sql['start']}"
        " FROM seq WHERE n % 20 <> 7",
        "INSERT INTO review_item (id, pathway_id, campaign_id, pathway_outcome_id, reason,"
        " rank, priority_rank, specialty_code, provider_code, clock_start_date, status,"
        " version, opened_at, due_at)"
        " SELECT n, n, :campaign, n, 'leave', 2, 9, pathway.specialty_code, 'RXX',"
        " '2025-06-01', CASE WHEN n % 2 = 0 THEN 'decided' ELSE 'open' END, 1,"
        f" {sql['start']}, {sql['start']}"
        f" FROM seq JOIN pathway ON pathway.id = n WHERE n % 20 <> 7 AND {_OUTCOME} = 'leave'",
        "INSERT INTO clinical_decision (review_item_id, pathway_id, decision, rtt_status_code,"
        f" decided_by_id, decided_at) SELECT id, pathway_id, 'remove', '34', :user,"
        f" {sql['start']} FROM review_item WHERE status = 'decided'",
        "DROP TABLE seq",
    ]
    for statement in statements:
        session.execute(text(statement), {"n": pathways, **ids})
    return campaign.id


def bare_scan(session: Session) -> None:
    """The least any report of these rows must do: one aggregate pass over each table."""
    session.execute(
        select(Patient.imd_decile, func.count())
        .join(Pathway, Pathway.patient_id == Patient.id)
        .group_by(Patient.imd_decile)
    ).all()
    session.execute(
        select(
            ContactAttempt.channel, func.count(), func.sum(ContactAttempt.duration_seconds)
        ).group_by(ContactAttempt.channel)
    ).all()
    session.execute(
        select(PathwayOutcome.outcome, func.count()).group_by(PathwayOutcome.outcome)
    ).all()


def _fill(url: str, pathways: int) -> float:
    """Fill a migrated database and ANALYZE it; returns the seconds it took."""
    engine = make_engine(url)
    began = time.perf_counter()
    with ExitStack() as stack:
        if engine.dialect.name == "postgresql":
            # Dropped on one connection (committed), rebuilt on it once the fill has committed.
            indexes = stack.enter_context(engine.connect())
            stack.enter_context(without_secondary_indexes(indexes, list(BULK_TABLES)))
        with Session(engine) as session:
            fill(session, pathways)
            session.commit()
    with Session(engine) as session:
        # As autovacuum would soon after an import: without statistics PostgreSQL plans the
        # grouped subqueries as nested loops over a "1-row" table.
        session.execute(text("ANALYZE"))
        session.commit()
    engine.dispose()
    return time.perf_counter() - began


class Timing:
    """Wall, client CPU and PostgreSQL backend CPU of repeated runs (medians)."""

    def __init__(self, backend_pid: int | None) -> None:
        self.backend_pid = backend_pid
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def run(self, action: Callable[[], object]) -> None:
        """Run ``action`` once and record what it cost."""
        cpu, began = self._cpu(), time.perf_counter()
        action()
        self.wall.append(time.perf_counter() - began)
        self.cpu.append(self._cpu() - cpu)

    def _cpu(self) -> float:
        backend = cpu_seconds(self.backend_pid) if self.backend_pid else 0.0
        return time.process_time() + backend

    def summary(self) -> dict[str, float]:
        """Median wall and CPU seconds (client plus database backend)."""
        return {
            "wall_s": round(statistics.median(self.wall), 3),
            "cpu_s": round(statistics.median(self.cpu), 3),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pathways", type=int, default=3000)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (scratch DB)")
    parser.add_argument(
        "--existing", default=None, help="measure a database filled before (with --fill: fill it)"
    )
    parser.add_argument(
        "--fill", action="store_true", help="migrate and fill --existing, then stop"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--statements", action="store_true", help="also print each statement's time, slowest first"
    )
    args = parser.parse_args()
    if args.existing and args.fill:
        upgrade(args.existing, MIGRATIONS)
        print(f"filled {args.pathways:,} pathways in {_fill(args.existing, args.pathways):.1f}s")
        return
    began_at = dt.datetime.now(dt.UTC)
    load = [os.getloadavg()]
    filled = None
    with _database(None if args.existing else args.database_url) as scratch:
        url = args.existing or scratch
        if not args.existing:
            filled = _fill(url, args.pathways)
            print(f"filled {args.pathways:,} pathways in {filled:.1f}s", flush=True)
        engine = make_engine(url)
        with Session(engine) as session:
            campaign_id = session.scalars(select(Campaign.id).where(Campaign.name == "bench")).one()
            pathways = session.scalar(select(func.count()).select_from(Pathway))
        settings = Settings(database_url=url)
        with Session(engine) as session:
            pid = None
            if engine.dialect.name == "postgresql":
                pid = int(session.scalar(text("SELECT pg_backend_pid()")) or 0)
            timings = {name: Timing(pid) for name in ("bare", "report", "dashboard")}
            actions: dict[str, Callable[[], object]] = {
                "bare": lambda: bare_scan(session),
                "report": lambda: build_campaign_report(
                    session, campaign_id=campaign_id, settings=settings, actor="bench"
                ),
                "dashboard": lambda: build_dashboard(session, now=NOW),
            }
            for action in actions.values():  # warm the cache once
                action()
                session.rollback()
            for _ in range(args.repeat):
                for name, action in actions.items():
                    timings[name].run(action)
                    session.rollback()
            if args.statements:
                for name in ("report", "dashboard"):
                    with statement_times(engine) as times:
                        actions[name]()
                    session.rollback()
                    print(f"-- {name}: statements, slowest first")
                    ranked = sorted(times, key=lambda t: t[0], reverse=True)
                    for seconds, statement, _ in ranked[:8]:
                        print(f"{seconds * 1000:8.0f} ms  {' '.join(statement.split())[:150]}")
                    if engine.dialect.name == "postgresql":
                        _, statement, parameters = ranked[0]
                        raw = session.connection().connection.driver_connection
                        assert raw is not None
                        with raw.cursor() as cursor:
                            # As the report's own transaction runs (see build_campaign_report).
                            cursor.execute("SET LOCAL jit = off")
                            cursor.execute("SET LOCAL work_mem = '64MB'")
                            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
                            print("\n".join(row[0] for row in cursor.fetchall()))
                        session.rollback()
        engine.dispose()
    load.append(os.getloadavg())
    result: dict[str, Any] = {
        "backend": engine.dialect.name,
        "pathways": pathways,
        "fill_s": filled and round(filled, 1),
        **{name: timing.summary() for name, timing in timings.items()},
    }
    for name in ("report", "dashboard"):
        result[name]["ratio_wall"] = round(result[name]["wall_s"] / result["bare"]["wall_s"], 1)
        result[name]["ratio_cpu"] = round(result[name]["cpu_s"] / result["bare"]["cpu_s"], 1)
    result |= {
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average": load,
        "began_at": began_at.isoformat(timespec="seconds"),
        "ended_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores {platform.machine()}, "
        f"Python {platform.python_version()}",
    }
    print(json.dumps(result, indent=2))


@contextmanager
def statement_times(engine: Engine) -> Iterator[list[tuple[float, str, Any]]]:
    """Every statement run on ``engine`` meanwhile, with its seconds (where the time goes)."""
    times: list[tuple[float, str, Any]] = []
    began: list[float] = []

    def before(*_: object) -> None:
        began.append(time.perf_counter())

    def after(_conn: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        times.append((time.perf_counter() - began.pop(), statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield times
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


@contextmanager
def _database(server: str | None) -> Iterator[str]:
    """A fresh migrated database: a temporary SQLite file, or a scratch PostgreSQL database."""
    if server is None:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
        upgrade(url, MIGRATIONS)
        yield url
        return
    with scratch_database(server, "waitlist_bench_reports") as url:
        yield url


if __name__ == "__main__":
    main()
