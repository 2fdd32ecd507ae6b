"""Benchmark: import a synthetic cohort into SQLite, beside the bare limit measured in the same run.

Bare limit: ``csv.reader`` over the same file plus ``executemany`` of the same rows into the same
(migrated) schema, 10,000-row transactions, no validation. Ours: ``import_cohort`` end to end
(encoding scan, validation, upserts, closing, exclusion rules). Each runs in a fresh child process
so peak memory (``ru_maxrss``) is its own.

    python scripts/bench_import.py --rows 1000000
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


def _fresh_database(directory: Path, name: str) -> str:
    from app.schema import upgrade

    url = f"sqlite:///{directory / name}"
    upgrade(url, ROOT / "migrations")
    return url


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


def ours(path: str, directory: str, out: Any) -> None:
    """The real import, rules included."""
    from app.cohort.service import import_cohort
    from app.config import SOURCE_ROOT
    from app.db import make_engine, make_session_factory, session_scope
    from app.eligibility.rules import load_rules

    url = _fresh_database(Path(directory), "ours.db")
    rules = load_rules(SOURCE_ROOT / "exclusions")
    marks: dict[str, float] = {}

    def progress(done: int, _expected: int) -> None:
        marks["rows_written"] = time.perf_counter()

    started, cpu = time.perf_counter(), time.process_time()
    with session_scope(make_session_factory(make_engine(url))) as session:
        report = import_cohort(
            session,
            cohort_name="bench",
            path=Path(path),
            default_provider_code="RXX",
            rules=rules,
            today=AS_OF,
            actor="bench",
            progress=progress,
        )
    seconds = time.perf_counter() - started
    out.put(
        {
            "rows": report.counts["rows"],
            "seconds": seconds,
            "cpu_seconds": time.process_time() - cpu,
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
    args = parser.parse_args()
    from app.cohort.synth import synthesise

    with tempfile.TemporaryDirectory() as directory:
        path = args.cohort or Path(directory) / "cohort.csv"
        if not args.cohort:
            synthesise(path, rows=args.rows, seed=args.seed, as_of=AS_OF)
        base = _run(bare, str(path), directory)
        mine = _run(ours, str(path), directory)
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
        "bare": {
            "rows_per_second": round(base_rate),
            "rows_per_cpu_second": round(base_cpu_rate),
            "peak_mb": round(base["peak_mb"]),
        },
        "import": {
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
