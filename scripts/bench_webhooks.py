"""Webhook latency under fixed offered loads, beside a do-nothing endpoint in the same app.

Runs the real app under uvicorn (one worker, loopback) on a fresh migrated database, then drives
signed Twilio requests for many concurrent synthetic calls: the voice URL, the gathers of the
standard script and the call-status callbacks we ask Twilio for (``CALL_EVENTS``: the final
``completed`` alone; figures before the evening of 2026-12-02 also posted initiated, ringing
and in-progress, as we asked for then), each call's requests in order. Requests are issued
open-loop at a fixed rate; latency is measured from send to response. The bare limit is a
``POST /bench/noop`` that parses the same form and answers an empty ``<Response/>`` in the same
process.

    python scripts/bench_webhooks.py --database sqlite --rates 50,200,500 --seconds 10
    python scripts/bench_webhooks.py --database postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.db import make_engine, make_session_factory, session_scope, utcnow  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import AttemptStatus  # noqa: E402
from app.schema import upgrade  # noqa: E402
from app.telephony.events import CALL_EVENTS, statuses_for  # noqa: E402
from app.telephony.signature import SIGNATURE_HEADER, compute_signature  # noqa: E402
from app.validation.rounds import open_round  # noqa: E402
from tests.support.factories import make_cohort, make_pathway  # noqa: E402
from tests.support.server import free_port  # noqa: E402
from tests.support.telephony import (  # noqa: E402
    call_params,
    make_attempt,
    status_params,
    validation_script,
)

MAX_IN_FLIGHT = 512
TOKEN = "bench-signing-token-0123456789abcdef"  # noqa: S105 - a throwaway benchmark database


def bench_app() -> FastAPI:
    """The real app plus a do-nothing webhook-shaped endpoint (the bare limit)."""
    app = create_app()

    @app.post("/bench/noop", include_in_schema=False)
    async def noop(request: Request) -> Response:
        await request.form()
        return Response(
            '<?xml version="1.0" encoding="UTF-8"?><Response />', media_type="application/xml"
        )

    return app


@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    """A fresh migrated database: a SQLite file, or a throwaway database on a PostgreSQL server."""
    if kind == "sqlite":
        url = f"sqlite:///{directory / 'bench.db'}"
        upgrade(url, ROOT / "migrations")
        yield url
        return
    server = make_url(kind)
    name = f"waitlist_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url, ROOT / "migrations")
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def plan_calls(url: str, count: int) -> list[str]:
    """``count`` placed voice attempts on the standard script; returns their tokens.

    Each pathway has its validation round open, as a campaign's planning leaves it: without one
    the outcome's webhook opened the round itself, four statements that production never sends.
    """
    engine = make_engine(url)
    tokens = []
    with session_scope(make_session_factory(engine)) as session:
        script = validation_script(session)
        cohort = make_cohort(session, name="bench")
        for n in range(count):
            pathway = make_pathway(session, cohort=cohort, specialty_name="Ophthalmology")
            open_round(session, pathway=pathway, now=utcnow())
            attempt = make_attempt(
                session,
                pathway=pathway,
                call_script=script,
                status=AttemptStatus.PLACED,
                to_number=f"+447700900{n % 1000:03d}",
            )
            tokens.append(attempt.token)
    engine.dispose()
    return tokens


def call_requests(
    base: str, token: str, events: tuple[str, ...] = CALL_EVENTS
) -> list[tuple[str, dict[str, str]]]:
    """One answered call's webhooks, in order: the progress statuses ``events`` asks for, the
    voice URL, four gathers, the final status."""
    sid = "CA" + secrets.token_hex(16)
    status = f"{base}/webhooks/twilio/status/{token}"
    gather = f"{base}/webhooks/twilio/voice/{token}/gather"
    posted = statuses_for(events)
    every = [
        (status, status_params(sid, "initiated", 0)),
        (status, status_params(sid, "ringing", 1)),
        (status, status_params(sid, "in-progress", 2)),
        (f"{base}/webhooks/twilio/voice/{token}", call_params(sid)),
        (f"{gather}?step=identity&n=0", call_params(sid, Digits="14031956")),
        (f"{gather}?step=still_needed&n=1", call_params(sid, Digits="1")),
        (
            f"{gather}?step=condition&n=2",
            call_params(sid, SpeechResult="About the same.", Confidence="0.9123"),
        ),
        (f"{gather}?step=mutual_aid&n=3", call_params(sid, Digits="2")),
        (status, status_params(sid, "completed", 3, CallDuration="61", SipResponseCode="200")),
    ]
    return [(url, p) for url, p in every if url != status or p["CallStatus"] in posted]


@dataclass
class Run:
    """The latencies and failures of one load step."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    shed: int = 0  # not sent: too many requests already waiting (the server is saturated)
    cpu_seconds: float = 0.0
    started: float = 0.0
    finished: float = 0.0

    def summary(self) -> dict[str, object]:
        ordered = sorted(self.latencies)
        count = len(ordered)
        return {
            "requests": count,
            "errors": self.errors,
            "failures": self.failures,
            "shed": self.shed,
            "server_cpu_ms_per_request": round(self.cpu_seconds * 1000 / max(count, 1), 2),
            "achieved_rps": round(count / max(self.finished - self.started, 1e-9), 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 2) if ordered else 0.0,
            "p99_ms": round(ordered[min(count - 1, int(count * 0.99))] * 1000, 2)
            if ordered
            else 0.0,
        }


async def _send(client: httpx.AsyncClient, url: str, params: dict[str, str], run: Run) -> None:
    signature = compute_signature(TOKEN, url, params)
    began = time.perf_counter()
    try:
        response = await client.post(url, data=params, headers={SIGNATURE_HEADER: signature})
        failure = None if response.status_code == 200 else f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        failure = type(exc).__name__
    run.latencies.append(time.perf_counter() - began)
    if failure:
        run.errors += 1
        run.failures[failure] = run.failures.get(failure, 0) + 1


async def drive(
    base: str, tokens: AsyncIterator[str] | list[str], *, rate: int, seconds: float, noop: bool
) -> Run:
    """Issue requests at ``rate`` per second: the next request of a waiting call, or a new call."""
    run = Run()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    ready: asyncio.Queue[list[tuple[str, dict[str, str]]]] = asyncio.Queue()
    token_iter = iter(tokens if isinstance(tokens, list) else [])
    tasks: set[asyncio.Task[None]] = set()

    async def step(chain: list[tuple[str, dict[str, str]]]) -> None:
        url, params = chain[0]
        await _send(client, f"{base}/bench/noop" if noop else url, params, run)
        if len(chain) > 1:
            ready.put_nowait(chain[1:])

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        run.started = time.perf_counter()
        total = int(rate * seconds)
        for index in range(total):
            target = run.started + index / rate
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(tasks) >= MAX_IN_FLIGHT:
                run.shed += 1
                continue
            try:
                chain = ready.get_nowait()
            except asyncio.QueueEmpty:
                token = next(token_iter, None)
                if token is None:
                    break
                chain = call_requests(base, token)
            task = asyncio.create_task(step(chain))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        run.finished = time.perf_counter()
    return run


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used (Linux /proc), immune to other load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and its live children (uvicorn's worker processes)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                children.append(int(entry.name))
    return cpu_seconds(pid) + sum(cpu_seconds(child) for child in children)


@contextmanager
def uvicorn_serving(url: str, port: int, workers: int = 1) -> Iterator[tuple[str, int]]:
    """The app in a child process (its own interpreter, like production), ``workers`` of them."""
    env = os.environ | {
        "WAITLIST_DATABASE_URL": url,
        "WAITLIST_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WAITLIST_SIMULATOR_AUTH_TOKEN": TOKEN,
        "WAITLIST_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "uvicorn",
            "scripts.bench_webhooks:bench_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            *(("--workers", str(workers)) if workers > 1 else ()),
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a busy machine starts several workers slowly
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the app did not start")
            time.sleep(0.1)
        time.sleep(2 if workers > 1 else 0)  # every worker process up and serving
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite", help="sqlite, or a PostgreSQL server URL")
    parser.add_argument("--rates", default="50,200,500")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--web-workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    results: list[dict[str, object]] = []
    with (
        tempfile.TemporaryDirectory() as directory,
        database(args.database, Path(directory)) as url,
    ):
        # Enough calls even if every tick starts a new one (slow answers leave none ready).
        calls_needed = sum(int(rate * args.seconds) for rate in rates)
        tokens = plan_calls(url, calls_needed)
        port = free_port()
        with uvicorn_serving(url, port, args.web_workers) as (base, pid):
            for rate in rates:
                for noop in (True, False):
                    batch = tokens[: int(rate * args.seconds)]
                    if not noop:
                        del tokens[: len(batch)]
                    before = tree_cpu_seconds(pid)
                    run = asyncio.run(
                        drive(base, batch, rate=rate, seconds=args.seconds, noop=noop)
                    )
                    run.cpu_seconds = tree_cpu_seconds(pid) - before
                    results.append(
                        {"rate": rate, "endpoint": "noop" if noop else "webhooks"} | run.summary()
                    )
                    print(json.dumps(results[-1]), flush=True)
    backend = "sqlite" if args.database == "sqlite" else "postgresql"
    print(
        json.dumps(
            {
                "backend": backend,
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "python": platform.python_version(),
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "load_average": os.getloadavg(),
                "web_workers": args.web_workers,
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
