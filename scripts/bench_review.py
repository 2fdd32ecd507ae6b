"""Review queue latency at national scale, through the real app, beside the bare SQL.

Bulk-inserts synthetic pathways (NHS numbers from the 999 test range) and open review items
into a fresh SQLite file (or the PostgreSQL URL given), then measures p50/p95 of:
the queue's first page, a deep keyset page, a filtered page and an item page, each through the
real app over ASGI (signed in as a clinician) and as the bare SQL that fetches the same rows.

    PYTHONPATH=. /work/venv/bin/python scripts/bench_review.py --pathways 50000 --items 7500
    PYTHONPATH=. /work/venv/bin/python scripts/bench_review.py  # 1,000,000 and 150,000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import Engine, insert, select, text

from app.config import Settings
from app.db import make_engine, make_session_factory, session_scope
from app.main import create_app
from app.models import (
    Answer,
    CallScript,
    Campaign,
    Cohort,
    ContactAttempt,
    Pathway,
    PathwayOutcome,
    Patient,
    ReviewItem,
    Role,
    User,
)
from app.review.intake import REVIEW_RANK, priority_rank
from app.review.queue import encode_cursor
from app.schema import upgrade
from app.users.service import create_user

ROOT = Path(__file__).resolve().parents[1]
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
BATCH = 20_000
SPECIALTIES = ["100", "101", "110", "120", "130", "140", "150", "160", "170", "300", "301", "320"]
PROVIDERS = ["RXN", "RXR", "RTX", "RXL"]
REASONS = ["worsened", "leave", "leave", "leave", "unclear", "unclear", "callback_requested"]
PASSWORD = "correct horse battery staple benchmark!"  # noqa: S105 - a throwaway bench user


def synthetic_nhs_numbers() -> Iterator[str]:
    """Every check-digit-valid NHS number in the 999 test range, in order (about 909,000)."""
    for serial in range(1_000_000):
        body = f"999{serial:06d}"
        check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11
        if check != 10:
            yield body + ("0" if check == 11 else str(check))


def populate(engine: Engine, *, pathways: int, items: int, seed: int) -> None:
    """Bulk-insert patients, pathways, outcomes, attempts, answers and open review items."""
    rng = random.Random(seed)
    with engine.begin() as connection:
        cohort_id = connection.execute(insert(Cohort).values(name="bench")).inserted_primary_key[0]  # type: ignore[index]
        script_id = connection.execute(
            insert(CallScript).values(
                flow_id="validation",
                version=3,
                content_hash="a" * 64,
                title="Validation",
                language="en",
                content="",
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        campaign_ids = [
            connection.execute(
                insert(Campaign).values(
                    name=f"bench {n}", cohort_id=cohort_id, call_script_id=script_id
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            for n in range(4)
        ]
    item_every = max(1, pathways // items)
    # Some patients wait on two pathways (and the 999 range holds only ~909,000 numbers).
    patient_count = max(1, pathways * 4 // 5)
    numbers = synthetic_nhs_numbers()
    start = time.perf_counter()
    for base in range(0, patient_count, BATCH):
        with engine.begin() as connection:
            connection.execute(
                insert(Patient),
                [
                    {
                        "id": n,
                        "nhs_number": next(numbers),
                        "given_name": "Ada",
                        "family_name": f"Testpatient{n % 997}",
                        "date_of_birth": dt.date(1940 + n % 60, 1 + n % 12, 1 + n % 28),
                        "preferred_language": "en",
                        "interpreter_required": False,
                    }
                    for n in range(base + 1, min(base + BATCH, patient_count) + 1)
                ],
            )
    for base in range(0, pathways, BATCH):
        ids = range(base + 1, min(base + BATCH, pathways) + 1)
        rows = []
        for n in ids:
            patient_id = (n - 1) % patient_count + 1
            rows.append(
                {
                    "id": n,
                    "provider_code": PROVIDERS[n % len(PROVIDERS)],
                    "pathway_id": f"PW-{n:08d}",
                    "patient_id": patient_id,
                    "cohort_id": cohort_id,
                    "specialty_code": SPECIALTIES[n % len(SPECIALTIES)],
                    "clock_start_date": dt.date(2024, 1, 1) + dt.timedelta(days=n % 900),
                    "priority": f"P{1 + n % 4}" if n % 10 else None,
                    "flags": [],
                    "diagnosis_codes": [],
                    "row_hash": f"{n:064d}",
                }
            )
        items_batch, outcomes, attempts, answers = [], [], [], []
        for n in ids:
            if n % item_every or n // item_every > items:
                continue
            reason = rng.choice(REASONS)
            campaign_id = campaign_ids[n % len(campaign_ids)]
            opened = NOW - dt.timedelta(hours=rng.randint(1, 24 * 20))
            outcomes.append(
                {
                    "id": n,
                    "pathway_id": n,
                    "campaign_id": campaign_id,
                    "contact_attempt_id": n,
                    "outcome": reason,
                    "recorded": {},
                    "recorded_at": opened,
                }
            )
            attempts.append(
                {
                    "id": n,
                    "campaign_id": campaign_id,
                    "pathway_id": n,
                    "patient_id": (n - 1) % patient_count + 1,
                    "attempt_number": 1,
                    "channel": "voice",
                    "status": "completed",
                    "token": f"t{n:020d}",
                    "due_at": opened,
                    "conversation": {},
                    "fence": 0,
                }
            )
            for turn, prompt in enumerate(("Is this Ada?", "Do you still need the operation?")):
                answers.append(
                    {
                        "contact_attempt_id": n,
                        "pathway_id": n,
                        "step": f"step{turn}",
                        "turn": turn,
                        "prompt": prompt,
                        "input_kind": "speech",
                        "raw_input": "yes",
                        "confidence": 0.9,
                        "interpretation": "yes",
                        "recorded": {},
                        "flow_id": "validation",
                        "flow_version": 3,
                        "flow_hash": "a" * 64,
                        "answered_at": opened,
                    }
                )
            priority = rows[n - ids.start]["priority"]
            items_batch.append(
                {
                    "pathway_id": n,
                    "campaign_id": campaign_id,
                    "pathway_outcome_id": n,
                    "reason": reason,
                    "rank": REVIEW_RANK[next(o for o in REVIEW_RANK if o.value == reason)],
                    "priority_rank": priority_rank(priority),
                    "specialty_code": rows[n - ids.start]["specialty_code"],
                    "provider_code": rows[n - ids.start]["provider_code"],
                    "clock_start_date": rows[n - ids.start]["clock_start_date"],
                    "status": "open",
                    "version": 1,
                    "opened_at": opened,
                    "due_at": opened + dt.timedelta(days=3 if reason == "worsened" else 14),
                }
            )
        with engine.begin() as connection:
            connection.execute(insert(Pathway), rows)
            if attempts:
                connection.execute(insert(ContactAttempt), attempts)
                connection.execute(insert(PathwayOutcome), outcomes)
                connection.execute(insert(Answer), answers)
                connection.execute(insert(ReviewItem), items_batch)
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    print(f"populated {pathways:,} pathways in {time.perf_counter() - start:.0f} s")


BARE_PAGE = """
SELECT r.id, r.reason, r.version, r.due_at, p.pathway_id, p.priority, p.specialty_name,
       pt.given_name, pt.family_name, pt.nhs_number
FROM review_item r JOIN pathway p ON p.id = r.pathway_id JOIN patient pt ON pt.id = p.patient_id
WHERE r.status = 'open' {where}
ORDER BY r.rank, r.priority_rank, r.clock_start_date, r.id
LIMIT 50
"""
BARE_ITEM = """
SELECT r.*, p.*, pt.* FROM review_item r JOIN pathway p ON p.id = r.pathway_id
JOIN patient pt ON pt.id = p.patient_id WHERE r.id = :id;
"""


def percentile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples`` in milliseconds."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` calls (after two warm-ups)."""
    for _ in range(2):
        await call()
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - began)
    return samples


def bare(engine: Engine, sql: str, **params: Any) -> Callable[[], Awaitable[Any]]:
    """The same rows fetched with plain SQL on one connection (the floor for the app)."""

    async def run() -> Any:
        with engine.connect() as connection:
            return connection.execute(text(sql), params).all()

    return run


async def measure(url: str, *, repeat: int) -> list[dict[str, Any]]:
    """p50/p95 for each scenario through the app and as bare SQL."""
    settings = Settings(
        environment="test",
        database_url=url,
        secret_key=SecretStr("bench-secret-key-that-is-long-enough-0123456789"),
        public_base_url="http://127.0.0.1",
    )
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        if session.scalar(select(User.id).where(User.username == "alice")) is None:
            create_user(
                session,
                username="alice",
                full_name="Alice Adeyemi",
                role=Role.CLINICIAN,
                password=PASSWORD,
            )
    with engine.connect() as connection:
        deep_row = connection.execute(
            text(
                "SELECT rank, priority_rank, clock_start_date, id FROM review_item "
                "WHERE status = 'open' ORDER BY rank, priority_rank, clock_start_date, id "
                "LIMIT 1 OFFSET (SELECT count(*) * 2 / 3 FROM review_item)"
            )
        ).one()
        total = connection.execute(text("SELECT count(*) FROM review_item")).scalar_one()
        item_id = connection.execute(
            text("SELECT id FROM review_item ORDER BY id LIMIT 1 OFFSET :n"), {"n": total // 2}
        ).scalar_one()
    clock_start = deep_row[2]
    if isinstance(clock_start, str):
        clock_start = dt.date.fromisoformat(clock_start)
    cursor = encode_cursor((deep_row[0], deep_row[1], clock_start, deep_row[3]))
    deep_where = "AND (r.rank, r.priority_rank, r.clock_start_date, r.id) > (:r, :p, :c, :i)"
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    results = []
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        form = await client.get("/sign-in")
        token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = await client.post(
            "/sign-in",
            data={"csrf_token": token, "username": "alice", "password": PASSWORD, "next": "/"},
        )
        assert signed.status_code in (302, 303), signed.status_code

        def page(path: str) -> Callable[[], Awaitable[Any]]:
            async def run() -> Any:
                response = await client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                return response

            return run

        scenarios = [
            ("first page", page("/review"), bare(engine, BARE_PAGE.format(where=""))),
            (
                "deep page (keyset, 2/3 down)",
                page(f"/review?after={cursor}"),
                bare(
                    engine,
                    BARE_PAGE.format(where=deep_where),
                    r=deep_row[0],
                    p=deep_row[1],
                    c=deep_row[2],
                    i=deep_row[3],
                ),
            ),
            (
                "filtered page (specialty 120, leave)",
                page("/review?specialty=120&reason=leave"),
                bare(
                    engine,
                    BARE_PAGE.format(where="AND r.specialty_code = '120' AND r.reason = 'leave'"),
                ),
            ),
            ("item page", page(f"/review/{item_id}"), bare(engine, BARE_ITEM, id=item_id)),
        ]
        for name, through_app, floor in scenarios:
            app_samples = await timed(through_app, repeat)
            sql_samples = await timed(floor, repeat)
            results.append(
                {
                    "scenario": name,
                    "app_p50": percentile(app_samples, 0.5),
                    "app_p95": percentile(app_samples, 0.95),
                    "sql_p50": percentile(sql_samples, 0.5),
                    "sql_p95": percentile(sql_samples, 0.95),
                    "mean_ratio": statistics.mean(app_samples) / statistics.mean(sql_samples),
                }
            )
    app.state.engine.dispose()
    engine.dispose()
    return results


def main() -> None:
    """Build the data set, measure, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pathways", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="PostgreSQL URL of an EMPTY database (optional)")
    parser.add_argument(
        "--measure-only",
        action="store_true",
        help="measure a --database-url this script already populated (no inserts)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{Path(directory) / 'bench.db'}"
        if not (args.measure_only and args.database_url):
            upgrade(url, ROOT / "migrations")
            engine = make_engine(url)
            populate(engine, pathways=args.pathways, items=args.items, seed=args.seed)
            engine.dispose()
        results = asyncio.run(measure(url, repeat=args.repeat))
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"\n{backend}, {args.pathways:,} pathways, {args.items:,} open review items, "
        f"{args.repeat} requests each; {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, {dt.datetime.now(dt.UTC).date().isoformat()}\n"
    )
    print("| scenario | app p50 ms | app p95 ms | bare SQL p50 ms | bare SQL p95 ms | app/SQL |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['scenario']} | {r['app_p50']:.1f} | {r['app_p95']:.1f} | "
            f"{r['sql_p50']:.2f} | {r['sql_p95']:.2f} | {r['mean_ratio']:.0f}x |"
        )


if __name__ == "__main__":
    main()
