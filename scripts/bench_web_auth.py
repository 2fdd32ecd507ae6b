"""Benchmark the web foundation's database work beside bare SQL for the same rows.

What every page pays (resolving the session cookie), what every sign-in pays (the throttle
check over ``login_attempt``), and the admin audit page over a large ``audit_event`` table
(first page, a deep keyset page, filtered by actor and by pathway). Each is timed through the
real domain function and as bare SQL on the same connection; the report gives p50/p95 and
the ratio of the p95s.

    python scripts/bench_web_auth.py --events 1000000 --attempts 100000 --sessions 10000
    python scripts/bench_web_auth.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from app.audit_search import AuditFilters, search_audit_events
from app.db import make_engine, make_session_factory, utcnow
from app.models import AuditEvent, LoginAttempt, Role, User, UserSession
from app.schema import upgrade
from app.users.sessions import SessionPolicy, resolve_session, token_hash
from app.users.signin import ThrottlePolicy, is_locked

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
BATCH = 20_000


def _timed(fn: Callable[[], Any], repeats: int) -> list[float]:
    fn()  # warm caches and statement compilation
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def _seed(engine: Engine, *, events: int, attempts: int, sessions: int) -> list[str]:
    rng = random.Random(7)
    now = utcnow()
    tokens = [f"bench-token-{n}" for n in range(sessions)]
    with Session(engine) as session:
        session.execute(
            insert(User),
            [
                {
                    "username": f"user{n}",
                    "full_name": f"User {n}",
                    "role": Role.CLINICIAN,
                    "password_hash": "x",
                    "is_service_account": False,
                    "is_active": True,
                    "failed_logins": 0,
                    "created_at": now,
                }
                for n in range(200)
            ],
        )
        session.execute(
            insert(UserSession),
            [
                {
                    "token_hash": token_hash(token),
                    "user_id": 1 + n % 200,
                    "csrf_token": "c",
                    "created_at": now,
                    "last_seen_at": now,
                }
                for n, token in enumerate(tokens)
            ],
        )
        for start in range(0, attempts, BATCH):
            session.execute(
                insert(LoginAttempt),
                [
                    {
                        "at": now - dt.timedelta(seconds=rng.randrange(86_400)),
                        "username": f"user{rng.randrange(2_000)}",
                        "client_address": f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
                        "succeeded": rng.random() < 0.8,
                    }
                    for _ in range(start, min(start + BATCH, attempts))
                ],
            )
        actions = ["pathway_viewed"] * 8 + ["decision_recorded", "sign_in"]
        for start in range(0, events, BATCH):
            session.execute(
                insert(AuditEvent),
                [
                    {
                        "at": now,
                        "actor_user_id": None,
                        "actor": f"user{rng.randrange(200)}",
                        "action": rng.choice(actions),
                        "entity_type": "pathway",
                        "entity_id": str(n),
                        "pathway_id": None,
                        "detail": {},
                    }
                    for n in range(start, min(start + BATCH, events))
                ],
            )
        session.commit()
    return tokens


def run(url: str, *, events: int, attempts: int, sessions: int, repeats: int) -> dict[str, Any]:
    """Seed the tables, time each query and its bare SQL twin, return the figures."""
    upgrade(url, MIGRATIONS)
    engine = make_engine(url)
    started = time.perf_counter()
    tokens = _seed(engine, events=events, attempts=attempts, sessions=sessions)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # planner statistics, as autovacuum would gather
    seed_seconds = time.perf_counter() - started
    factory = make_session_factory(engine)
    rng = random.Random(11)
    deep_before = max(2, events // 50)
    results: dict[str, Any] = {}
    with factory() as session:
        conn = session.connection()
        throttle = ThrottlePolicy()
        cases: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
            "session lookup (every page)": (
                lambda: resolve_session(session, token=rng.choice(tokens), policy=SessionPolicy()),
                lambda: conn.execute(
                    text(
                        'SELECT s.*, u.* FROM user_session s JOIN "user" u ON u.id = s.user_id '
                        "WHERE s.token_hash = :h AND s.ended_at IS NULL"
                    ),
                    {"h": token_hash(rng.choice(tokens))},
                ).all(),
            ),
            "throttle check (every sign-in)": (
                lambda: is_locked(
                    session,
                    username=f"user{rng.randrange(2_000)}",
                    client_address=f"10.0.{rng.randrange(256)}.{rng.randrange(256)}",
                    policy=throttle,
                ),
                lambda: conn.execute(
                    text(
                        "SELECT count(*) FROM login_attempt WHERE username = :u "
                        "AND succeeded = false AND at > :t"
                    ),
                    {"u": f"user{rng.randrange(2_000)}", "t": utcnow() - throttle.lock},
                ).scalar(),
            ),
            "audit first page": (
                lambda: search_audit_events(session, filters=AuditFilters()),
                lambda: conn.execute(
                    text("SELECT * FROM audit_event ORDER BY id DESC LIMIT 51")
                ).all(),
            ),
            "audit deep page": (
                lambda: search_audit_events(session, filters=AuditFilters(), before_id=deep_before),
                lambda: conn.execute(
                    text("SELECT * FROM audit_event WHERE id < :b ORDER BY id DESC LIMIT 51"),
                    {"b": deep_before},
                ).all(),
            ),
            "audit by actor": (
                lambda: search_audit_events(
                    session, filters=AuditFilters(actor=f"user{rng.randrange(200)}")
                ),
                lambda: conn.execute(
                    text("SELECT * FROM audit_event WHERE actor = :a ORDER BY id DESC LIMIT 51"),
                    {"a": f"user{rng.randrange(200)}"},
                ).all(),
            ),
            "audit by rare action": (
                lambda: search_audit_events(session, filters=AuditFilters(action="sign_in")),
                lambda: conn.execute(
                    text(
                        "SELECT * FROM audit_event WHERE action = 'sign_in' "
                        "ORDER BY id DESC LIMIT 51"
                    )
                ).all(),
            ),
        }
        for name, (through_code, bare) in cases.items():
            conn = session.connection()  # the bare twin runs on the session's own connection
            code_ms = _timed(through_code, repeats)
            bare_ms = _timed(bare, repeats)
            session.rollback()
            results[name] = {
                "p50_ms": round(statistics.median(code_ms), 3),
                "p95_ms": round(_p95(code_ms), 3),
                "bare_p95_ms": round(_p95(bare_ms), 3),
                "ratio_p95": round(_p95(code_ms) / max(_p95(bare_ms), 1e-6), 2),
            }
    engine.dispose()
    return {
        "database": url.split(":", 1)[0],
        "events": events,
        "attempts": attempts,
        "sessions": sessions,
        "repeats": repeats,
        "seed_seconds": round(seed_seconds, 1),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "results": results,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--attempts", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        report = run(
            url,
            events=args.events,
            attempts=args.attempts,
            sessions=args.sessions,
            repeats=args.repeats,
        )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
