"""Benchmark: import a synthetic cohort into SQLite, beside the bare limit measured in the same run.

Bare limit: ``csv.reader`` over the same file plus ``executemany`` of the same rows into the same
(migrated) schema, 10,000-row transactions, no validation. Ours: ``import_cohort`` end to end
(encoding scan, validation, upserts, closing, exclusion rules). Each runs in a fresh child process
so peak memory (``ru_maxrss``) is its own.

    python scripts/bench_import.py --rows 1000000
    python scripts/bench_import.py --rows 200000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

With ``--postgres`` the same two run against fresh databases on that server, and the bare limit is
``csv.reader`` plus ``COPY`` of the same rows (patients, their ids read back, pathways) in the
same 10,000-row transactions. The PostgreSQL backend's own CPU time is read from ``/proc``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import multiprocessing
import os
import platform
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AS_OF = dt.date(2026, 11, 22)
CHUNK = 10_000


def _fresh_database(directory: Path, name: str, server: str = "") -> str:
    from sqlalchemy import create_engine, make_url, text

    from app.schema import upgrade

    if server:
        database = f"waitlist_bench_import_{name.split('.')[0]}_{os.getpid()}"
        admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        url = make_url(server).set(database=database).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{directory / name}"
    upgrade(url, ROOT / "migrations")
    return url


def _drop(url: str, server: str) -> None:
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(make_url(server), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        name = make_url(url).database
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _iso(text: str) -> str:
    # The bare loop validates nothing, but PostgreSQL's date type refuses DD/MM/YYYY.
    return text if len(text) == 10 and text[4] == "-" else "2000-01-01"


def bare_postgres(path: str, server: str, out: Any) -> None:
    """csv.reader + COPY of the same rows into the same schema on PostgreSQL."""
    import psycopg

    url = _fresh_database(Path(), "bare", server)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    stamp = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
    with psycopg.connect(dsn) as db:
        pid = db.info.backend_pid
        db.execute("INSERT INTO cohort (name, created_at) VALUES ('bare', now())")
        db.commit()
        seen: set[str] = set()
        started, cpu, pg = time.perf_counter(), time.process_time(), _backend_cpu(pid)
        with Path(path).open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            rows = 0
            while True:
                chunk = [row for _, row in zip(range(CHUNK), reader, strict=False)]
                if not chunk:
                    break
                rows += len(chunk)
                with db.cursor() as cursor:
                    with cursor.copy(
                        "COPY patient (nhs_number, given_name, family_name, date_of_birth,"
                        " mobile_phone, landline_phone, preferred_language, interpreter_required,"
                        " created_at, updated_at) FROM STDIN"
                    ) as copy:
                        for r in chunk:
                            if r[0] not in seen:
                                seen.add(r[0])
                                copy.write_row(
                                    (
                                        r[0],
                                        r[2],
                                        r[3],
                                        _iso(r[4]),
                                        r[5][:16],
                                        r[6][:16],
                                        "en",
                                        False,
                                        stamp,
                                        stamp,
                                    )
                                )
                    cursor.execute(
                        "SELECT nhs_number, id FROM patient WHERE nhs_number = ANY(%s)",
                        ([r[0] for r in chunk],),
                    )
                    ids = dict(cursor.fetchall())
                    with cursor.copy(
                        "COPY pathway (provider_code, pathway_id, patient_id, cohort_id, status,"
                        " specialty_code, clock_start_date, priority, flags, diagnosis_codes,"
                        " row_hash, outcome, created_at, updated_at) FROM STDIN"
                    ) as copy:
                        for r in chunk:
                            copy.write_row(
                                (
                                    "RXX",
                                    r[1],
                                    ids[r[0]],
                                    1,
                                    "open",
                                    r[7],
                                    _iso(r[9]),
                                    r[10],
                                    json.dumps([r[18]]),
                                    json.dumps([r[19]]),
                                    "",
                                    "pending",
                                    stamp,
                                    stamp,
                                )
                            )
                db.commit()
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu
        pg_seconds = _backend_cpu(pid) - pg
    _drop(url, server)
    out.put(
        {
            "rows": rows,
            "seconds": seconds,
            "cpu_seconds": cpu_seconds,
            "postgresql_cpu_seconds": pg_seconds,
            "peak_mb": _peak_mb(),
        }
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bare(path: str, directory: str, out: Any) -> None:
    """csv.reader + executemany of the same rows into the same schema."""
    url = _fresh_database(Path(directory), "bare.db")
    db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("INSERT INTO cohort (name, created_at) VALUES ('bare', '2026-11-22 00:00:00')")
    started, cpu = time.perf_counter(), time.process_time()
    with Path(path).open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = 0
        while True:
            chunk = [row for _, row in zip(range(CHUNK), reader, strict=False)]
            if not chunk:
                break
            rows += len(chunk)
            db.execute("BEGIN")
            db.executemany(
                "INSERT OR IGNORE INTO patient (nhs_number, given_name, family_name, date_of_birth,"
                " mobile_phone, landline_phone, preferred_language, interpreter_required,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'en', 0, ?, ?)",
                [(r[0], r[2], r[3], r[4], r[5], r[6], "2026", "2026") for r in chunk],
            )
            db.executemany(
                "INSERT INTO pathway (provider_code, pathway_id, patient_id, cohort_id, status,"
                " specialty_code, clock_start_date, priority, flags, diagnosis_codes, row_hash,"
                " outcome, created_at, updated_at) VALUES ('RXX', ?, (SELECT id FROM patient"
                " WHERE nhs_number = ?), 1, 'open', ?, ?, ?, ?, ?, '', 'pending', ?, ?)",
                [(r[1], r[0], r[7], r[9], r[10], r[18], r[19], "2026", "2026") for r in chunk],
            )
            db.execute("COMMIT")
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu
    out.put({"rows": rows, "seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": _peak_mb()})


def ours(path: str, directory: str, server: str, workers: str, out: Any) -> None:
    """The real import, rules included."""
    from sqlalchemy import text

    from app.cohort.service import import_cohort
    from app.config import SOURCE_ROOT
    from app.db import make_engine, make_session_factory, session_scope
    from app.eligibility.rules import load_rules

    url = _fresh_database(Path(directory), "ours.db", server)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    rules = load_rules(SOURCE_ROOT / "exclusions")
    marks: dict[str, float] = {}

    def progress(done: int, _expected: int) -> None:
        marks["rows_written"] = time.perf_counter()

    with engine.connect() as connection:  # the pool's one connection: the import's backend
        pid = int(connection.scalar(text("SELECT pg_backend_pid()")) or 0) if server else 0
    pg = _backend_cpu(pid) if pid else 0.0
    started, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    with session_scope(make_session_factory(engine)) as session:
        report = import_cohort(
            session,
            cohort_name="bench",
            path=Path(path),
            default_provider_code="RXX",
            rules=rules,
            today=AS_OF,
            actor="bench",
            progress=progress,
            workers=None if workers == "" else int(workers),
        )
    seconds = time.perf_counter() - started
    pg_seconds = _backend_cpu(pid) - pg if pid else 0.0
    engine.dispose()
    if server:
        _drop(url, server)
    out.put(
        {
            "postgresql_cpu_seconds": pg_seconds,
            "rows": report.counts["rows"],
            "seconds": seconds,
            # The validation pool's workers are this process's children, reaped by now.
            "cpu_seconds": time.process_time() - cpu + _children_cpu() - children,
            "rows_phase_seconds": marks["rows_written"] - started,
            "peak_mb": _peak_mb(),
            "counts": report.counts,
        }
    )


def _run(target: Any, *args: str) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    result: dict[str, Any] = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cohort", type=Path, help="reuse a file made by waitlist synth")
    parser.add_argument("--postgres", default="", help="a PostgreSQL server URL")
    parser.add_argument(
        "--workers", default="", help="validation processes (default: the import's own choice)"
    )
    args = parser.parse_args()
    from app.cohort.synth import synthesise

    with tempfile.TemporaryDirectory() as directory:
        path = args.cohort or Path(directory) / "cohort.csv"
        if not args.cohort:
            synthesise(path, rows=args.rows, seed=args.seed, as_of=AS_OF)
        if args.postgres:
            base = _run(bare_postgres, str(path), args.postgres)
        else:
            base = _run(bare, str(path), directory)
        mine = _run(ours, str(path), directory, args.postgres, args.workers)
    base_rate = base["rows"] / base["seconds"]
    rate = mine["rows"] / mine["seconds"]
    base_cpu_rate = base["rows"] / base["cpu_seconds"]
    cpu_rate = mine["rows"] / mine["cpu_seconds"]
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg(),
        },
        "rows": args.rows,
        "backend": "postgresql" if args.postgres else "sqlite",
        "workers": args.workers or "default",
        "bare": {
            "postgresql_cpu_seconds": round(base.get("postgresql_cpu_seconds", 0.0), 2),
            "rows_per_second": round(base_rate),
            "rows_per_cpu_second": round(base_cpu_rate),
            "peak_mb": round(base["peak_mb"]),
        },
        "import": {
            "postgresql_cpu_seconds": round(mine["postgresql_cpu_seconds"], 2),
            "rows_per_second": round(rate),
            "rows_per_cpu_second": round(cpu_rate),
            "rows_phase_rows_per_second": round(mine["rows"] / mine["rows_phase_seconds"]),
            "seconds": round(mine["seconds"], 1),
            "peak_mb": round(mine["peak_mb"]),
            "counts": mine["counts"],
        },
        "ratio_to_bare": round(rate / base_rate, 3),
        # On a shared machine wall-clock rates swing with other load; CPU time is steadier.
        "cpu_ratio_to_bare": round(cpu_rate / base_cpu_rate, 3),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
