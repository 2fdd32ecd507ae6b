"""Dispatch throughput: attempts placed per second beside a bare claim loop, and rate-cap accuracy.

    python scripts/bench_dispatch.py --attempts 100000 [--postgres URL] [--workers 1,2,4]

Each run plans ``--attempts`` attempts in a simulated, always-open campaign on a fresh database,
then dispatches them against an in-process provider with injected latency, rate-limit errors and
timeouts. The bare loop claims and marks rows placed with no checks and no provider: the ceiling
the database allows. Duplicates are counted from the tokens every provider saw.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import random
import resource
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.campaigns.budget import LocalBudget, RateBudget, SharedBudget  # noqa: E402
from app.campaigns.dispatcher import DispatchConfig, claim_due  # noqa: E402
from app.campaigns.worker import Worker  # noqa: E402
from app.db import make_engine, make_session_factory  # noqa: E402
from app.models import (  # noqa: E402
    AttemptStatus,
    CallScript,
    Campaign,
    CampaignStatus,
    Cohort,
    ContactAttempt,
    Pathway,
    Patient,
)
from app.schema import upgrade  # noqa: E402
from app.telephony.provider import (  # noqa: E402
    CallRequest,
    ChannelName,
    Placed,
    ProviderContact,
    ProviderError,
    ProviderTimeoutError,
    SmsRequest,
)
from tests.campaigns.support import script_composer  # noqa: E402
from tests.support.databases import fresh_database  # noqa: E402

UNFINISHED = (
    AttemptStatus.PLANNED,
    AttemptStatus.CLAIMED,
    AttemptStatus.PLACING,
    AttemptStatus.IN_DOUBT,
)


class BenchProvider:
    """Latency, 1% rate-limit errors and 0.5% timeouts (raised before placing)."""

    name = "bench"

    def __init__(self, latency: float, seed: int) -> None:
        self.latency = latency
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.tokens: list[str] = []
        # Wall-clock time of every request, refused ones too: Twilio's rate limit counts requests.
        self.times: list[float] = []

    def place_call(self, request: CallRequest) -> Placed:
        with self.lock:
            self.times.append(time.time())
        time.sleep(self.latency)
        with self.lock:
            roll = self.rng.random()
            if roll < 0.01:
                raise ProviderError("Too many requests", permanent=False, code="20429")
            if roll < 0.015:
                raise ProviderTimeoutError("read timeout")
            self.tokens.append(request.token)
            return Placed(sid=f"CA{secrets.token_hex(16)}")

    def send_sms(self, request: SmsRequest) -> Placed:
        return self.place_call(CallRequest(to=request.to, token=request.token))

    def find_contact(
        self, *, channel: ChannelName, to: str, since: dt.datetime, sid: str | None = None
    ) -> ProviderContact | None:
        return None  # timeouts here never reached the provider


def postgres_cpu_seconds() -> float:
    """CPU used so far by this machine's PostgreSQL processes (Linux /proc; a local server)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
            if not fields[0].endswith("(postgres"):
                continue
            values = fields[1].split()
            ticks += sum(int(v) for v in values[11:15])  # utime stime cutime cstime
        except (OSError, IndexError, ValueError):
            continue  # a process that ended while we looked
    return ticks / os.sysconf("SC_CLK_TCK")


def seed(url: str, count: int) -> None:
    """A running simulated campaign with ``count`` due attempts, one patient each."""
    upgrade(url, ROOT / "migrations")
    engine = make_engine(url)
    factory = make_session_factory(engine)
    past = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with factory() as session:
        cohort = Cohort(name="bench")
        script = CallScript(
            flow_id="bench", version=1, content_hash="0" * 64, title="b", language="en", content="-"
        )
        session.add_all([cohort, script])
        session.flush()
        campaign = Campaign(
            name="bench",
            cohort_id=cohort.id,
            call_script_id=script.id,
            status=CampaignStatus.RUNNING,
            calling_windows={"always_open": True, "weekly": {}},
            attempt_policy={"calls": 1, "sms": False},
            calls_per_second=1e6,
            simulated=True,
        )
        session.add(campaign)
        session.flush()
        for start in range(0, count, 5000):
            n = range(start, min(count, start + 5000))
            session.execute(
                insert(Patient),
                [
                    {
                        "id": i + 1,
                        "nhs_number": f"999{i:07d}",
                        "given_name": "A",
                        "family_name": "B",
                        "date_of_birth": dt.date(1950, 1, 1),
                        # A number each: the bench provider never ends a call, so a number
                        # shared with a placed attempt would defer its other patients forever.
                        "mobile_phone": f"+447{700000000 + i}",
                        "preferred_language": "en",
                        "interpreter_required": False,
                    }
                    for i in n
                ],
            )
            session.execute(
                insert(Pathway),
                [
                    {
                        "id": i + 1,
                        "provider_code": "RXX",
                        "pathway_id": f"P{i}",
                        "patient_id": i + 1,
                        "cohort_id": cohort.id,
                        "specialty_code": "110",
                        "clock_start_date": dt.date(2025, 1, 1),
                        "row_hash": "h",
                        "flags": [],
                        "diagnosis_codes": [],
                    }
                    for i in n
                ],
            )
            session.execute(
                insert(ContactAttempt),
                [
                    {
                        "campaign_id": campaign.id,
                        "pathway_id": i + 1,
                        "patient_id": i + 1,
                        "attempt_number": 1,
                        "channel": "voice",
                        "status": "planned",
                        "token": secrets.token_urlsafe(24),
                        "due_at": past,
                        "fence": 0,
                        "retry_count": 0,
                        "conversation": {},
                    }
                    for i in n
                ],
            )
        session.commit()
    engine.dispose()


def settle(url: str) -> None:
    """Start each run from the same state: on PostgreSQL, no dead rows and no pending checkpoint.

    Without this a run pays for the previous one's leftovers: resetting 100,000 attempts leaves
    100,000 dead row versions for autovacuum to clear during the next run (PostgreSQL CPU per
    attempt went from ~2.5 ms to ~9 ms in a 100,000-attempt run).
    """
    if not url.startswith("postgresql"):
        return
    engine = make_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
        connection.exec_driver_sql("CHECKPOINT")
    engine.dispose()


def reset(url: str) -> None:
    """Every attempt planned again (between runs on the same rows)."""
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        session.execute(
            update(ContactAttempt).values(
                status=AttemptStatus.PLANNED,
                provider_sid=None,
                dispatched_at=None,
                placed_at=None,
                claimed_by=None,
                lease_expires_at=None,
                retry_count=0,
                error_code=None,
            )
        )
        session.execute(update(Campaign).values(status=CampaignStatus.RUNNING))
        session.commit()
    engine.dispose()
    settle(url)


def bare_claim_loop(url: str, batch: int = 32) -> float:
    """Claim and mark placed with nothing else: the database's ceiling, attempts/s."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    config = DispatchConfig(worker_id="bare", account_key="bare", account_calls_per_second=1e9)
    started, done = time.perf_counter(), 0
    while True:
        with factory() as session:
            claims = claim_due(session, config=config, now=dt.datetime.now(dt.UTC), limit=batch)
            session.commit()
        if not claims:
            break
        for claim in claims:
            with factory() as session:
                session.execute(
                    update(ContactAttempt)
                    .where(
                        ContactAttempt.id == claim.attempt_id, ContactAttempt.fence == claim.fence
                    )
                    .values(status=AttemptStatus.PLACED, provider_sid=f"CA{claim.attempt_id}")
                )
                session.commit()
            done += 1
    elapsed = time.perf_counter() - started
    engine.dispose()
    return done / elapsed


def _worker_process(url: str, index: int, rate: float, latency: float, out: str) -> None:
    engine = (
        make_engine(url, pool_size=20, max_overflow=10)
        if url.startswith("postgresql")
        else make_engine(url)
    )
    factory = make_session_factory(engine)
    provider = BenchProvider(latency, seed=index)
    budget: RateBudget = SharedBudget(factory) if url.startswith("postgresql") else LocalBudget()
    config = DispatchConfig(
        worker_id=f"bench-{index}",
        account_key="bench",
        account_calls_per_second=rate,
        concurrency=16,
        batch_size=32,
        reconcile_after=dt.timedelta(seconds=0.5),
        backoff_base_seconds=0.05,
        backoff_cap_seconds=0.5,
    )
    while True:
        worker = Worker(
            session_factory=factory,
            provider=provider,
            budget=budget,
            composer=script_composer(),
            config=config,
            housekeeping_every=5.0,  # the production default
            idle_sleep=0.05,
        )
        worker.run(once=True)
        with factory() as session:
            left = session.scalar(select(func.count()).where(ContactAttempt.status.in_(UNFINISHED)))
        if not left:
            break
        time.sleep(0.1)
    Path(out).write_text(json.dumps({"tokens": provider.tokens, "times": provider.times}))
    engine.dispose()


def steady_rate(times: list[float]) -> float | None:
    """Requests per second between the 5th and 95th percentile request, as the provider saw them.

    The first and last few are not the cap at work: the run starts with a burst and ends with a
    tail of retried attempts (rate-limit backoff, in-doubt reconciliation at housekeeping).
    """
    if len(times) < 20:
        return None
    low, high = int(len(times) * 0.05), int(len(times) * 0.95)
    span = times[high] - times[low]
    return round((high - low) / span, 2) if span > 0 else None


def dispatch(url: str, workers: int, rate: float, latency: float) -> dict[str, Any]:
    """Run ``workers`` worker processes to the end; attempts/s, achieved rate, duplicates."""
    tmp = Path(tempfile.mkdtemp())
    outs = [str(tmp / f"w{i}.json") for i in range(workers)]
    procs = [
        mp.Process(target=_worker_process, args=(url, i, rate, latency, outs[i]))
        for i in range(workers)
    ]
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    postgres_before = postgres_cpu_seconds() if url.startswith("postgresql") else None
    started = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    postgres_cpu = postgres_cpu_seconds() - postgres_before if postgres_before is not None else None
    seen = [json.loads(Path(out).read_text()) for out in outs]
    tokens = [t for one in seen for t in one["tokens"]]
    times = sorted(t for one in seen for t in one["times"])
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        placed = (
            session.scalar(
                select(func.count()).where(ContactAttempt.status == AttemptStatus.PLACED)
            )
            or 0
        )
        first, last = session.execute(
            select(func.min(ContactAttempt.placed_at), func.max(ContactAttempt.placed_at))
        ).one()
    engine.dispose()
    span = (last - first).total_seconds() if first and last else elapsed
    return {
        "workers": workers,
        "placed": placed,
        "seconds": round(elapsed, 1),
        "attempts_per_second": round(placed / elapsed, 1),
        "placement_rate": round(placed / span, 1) if span else None,
        "steady_rate": steady_rate(times),
        "provider_contacts": len(tokens),
        "duplicates": len(tokens) - len(set(tokens)),
        # CPU per attempt: flat across worker counts means no contention, only a busier machine.
        "worker_cpu_ms_per_attempt": round(1000 * worker_cpu / placed, 2) if placed else None,
        "postgres_cpu_ms_per_attempt": (
            round(1000 * postgres_cpu / placed, 2) if placed and postgres_cpu is not None else None
        ),
    }


def throughput(name: str, counts: list[int], *, attempts: int, latency: float) -> dict[str, Any]:
    """The bare claim loop, then ``attempts`` dispatched by each number of workers."""
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, fresh_database(Path(tmp)) as url:
        seed(url, attempts)
        settle(url)
        bare = bare_claim_loop(url)
        results[f"{name}_bare_claim_per_second"] = round(bare, 1)
        print(json.dumps({name: {"bare_claim_loop_per_second": round(bare, 1)}}), file=sys.stderr)
        for workers in counts:
            reset(url)
            run = dispatch(url, workers, rate=1e6, latency=latency)
            run["ratio_to_bare"] = round(run["attempts_per_second"] / bare, 2)
            results[f"{name}_{workers}_workers"] = run
            print(json.dumps({name: run}), file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=2000)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--latency", type=float, default=0.005)
    parser.add_argument("--cap", type=float, default=100.0, help="rate cap for the accuracy run")
    parser.add_argument("--cap-seconds", type=float, default=30.0)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": f"{platform.node()} {platform.machine()} {mp.cpu_count()} cpus",
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
        "attempts": args.attempts,
    }
    backends = ([("sqlite", None)] if args.sqlite else []) + (
        [("postgresql", args.postgres)] if args.postgres else []
    )
    for name, server in backends:
        if server:
            os.environ["WAITLIST_TEST_DATABASE_URL"] = server
        else:
            os.environ.pop("WAITLIST_TEST_DATABASE_URL", None)
        counts = [1] if name == "sqlite" else [int(w) for w in args.workers.split(",")]
        if args.attempts:  # --attempts 0: only the rate-cap run
            results.update(throughput(name, counts, attempts=args.attempts, latency=args.latency))
        if server:
            with tempfile.TemporaryDirectory() as tmp, fresh_database(Path(tmp)) as url:
                seed(url, int(args.cap * args.cap_seconds))
                settle(url)
                run = dispatch(url, 2, rate=args.cap, latency=args.latency)
                run["cap"] = args.cap
                run["cap_error_percent"] = round(
                    100 * (run["steady_rate"] - args.cap) / args.cap, 2
                )
                results["postgresql_rate_cap_2_workers"] = run
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
