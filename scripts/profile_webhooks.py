"""CPU time per webhook in one process, with no server, network or threads: a quick, quiet gauge.

Drives the real app through ``httpx.ASGITransport`` with the same signed call sequence as
``bench_webhooks.py`` (voice URL, four gathers, completed) and the same do-nothing
``/bench/noop`` as the bare limit. Sync handlers run inline instead of in the threadpool, so
process CPU time is this thread's work and ``--profile`` shows where it goes. The client's
own share is kept small, since it counts in both figures: the forms are encoded before the clock
starts, and httpx's per-request probe for trio (a failed import each time) is skipped.

    python scripts/profile_webhooks.py --calls 200
    python scripts/profile_webhooks.py --calls 200 --profile 30
    python scripts/profile_webhooks.py --calls 50 --statements

``--statements`` counts the SQL statements and commits each kind of webhook sends, a figure that,
unlike CPU time, does not move with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import httpx
import httpx._transports.asgi

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.config import get_settings  # noqa: E402
from app.telephony.signature import SIGNATURE_HEADER, compute_signature  # noqa: E402
from scripts.bench_webhooks import TOKEN, bench_app, call_requests, database, plan_calls  # noqa: E402
from tests.support.statements import StatementCounter, counting_statements  # noqa: E402

T = TypeVar("T")
BASE = "http://bench.invalid"
FORM = "application/x-www-form-urlencoded"


def webhook_kind(url: str, params: dict[str, str]) -> str:
    """voice, gather <step>, or status <word>: the label a webhook's statements count under."""
    path = urllib.parse.urlsplit(url)
    if "/status/" in path.path:
        return f"status {params.get('CallStatus', '')}"
    if path.path.endswith("/gather"):
        return "gather " + urllib.parse.parse_qs(path.query).get("step", [""])[0]
    return path.path.split("/")[3]


def print_statements(counter: StatementCounter) -> None:
    calls = counter.runs["voice"] or 1
    every = 0.0
    print(f"statements per webhook ({sum(counter.runs.values())} webhooks, {calls} calls):")
    for kind in sorted(counter.runs):
        every += counter.total(kind) * counter.runs[kind]
        print(f"  {kind}: {counter.total(kind):.1f}")
        for statement, n in counter.per_run(kind).items():
            print(f"      {n:4.1f}  {statement}")
    print(f"  a call: {every / calls:.1f}")


async def _inline(func: Callable[..., T], *args: Any, **_: Any) -> T:
    return func(*args)


async def _drive(
    client: httpx.AsyncClient,
    tokens: list[str],
    *,
    noop: bool,
    counter: StatementCounter | None = None,
) -> tuple[int, float]:
    requests = [r for token in tokens for r in call_requests(BASE, token)]
    signed = [
        (
            f"{BASE}/bench/noop" if noop else url,
            urllib.parse.urlencode(p).encode(),
            {SIGNATURE_HEADER: compute_signature(TOKEN, url, p), "content-type": FORM},
            (url, p),
        )
        for url, p in requests
    ]
    started = time.process_time()
    for target, body, headers, (url, params) in signed:
        if counter is not None:
            counter.start(webhook_kind(url, params))
        response = await client.post(target, content=body, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{target}: HTTP {response.status_code}")
    return len(signed), time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite", help="sqlite, or a PostgreSQL server URL")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--sort", default="cumulative", help="with --profile: pstats order")
    parser.add_argument("--callers", default="", help="with --profile: callers of this function")
    parser.add_argument("--callees", default="", help="with --profile: callees of this function")
    parser.add_argument("--statements", action="store_true", help="count SQL statements instead")
    args = parser.parse_args()
    anyio.to_thread.run_sync = _inline  # type: ignore[assignment]
    # sniffio is not installed, so httpx's trio probe is an import that fails on every request.
    httpx._transports.asgi.is_running_trio = lambda: False
    with (
        tempfile.TemporaryDirectory() as directory,
        database(args.database, Path(directory)) as url,
    ):
        tokens = plan_calls(url, args.calls + 20)
        os.environ |= {
            "WAITLIST_DATABASE_URL": url,
            "WAITLIST_PUBLIC_BASE_URL": BASE,
            "WAITLIST_SIMULATOR_AUTH_TOKEN": TOKEN,
            "WAITLIST_LOG_LEVEL": "WARNING",
        }
        get_settings.cache_clear()  # plan_calls read it before the URL was known
        app = bench_app()

        async def run() -> None:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
                await _drive(client, tokens[:10], noop=False)  # warm caches
                if args.statements:
                    with counting_statements() as counter:
                        await _drive(
                            client, tokens[20 : 20 + args.calls], noop=False, counter=counter
                        )
                    print_statements(counter)
                    return
                count, noop_cpu = await _drive(client, tokens[10:20], noop=True)
                count, noop_cpu = await _drive(client, tokens[: args.calls], noop=True)
                # Process CPU time as the profiler's clock: waiting for PostgreSQL is not cost.
                profiler = cProfile.Profile(time.process_time) if args.profile else None
                if profiler:
                    profiler.enable()
                count, cpu = await _drive(client, tokens[20 : 20 + args.calls], noop=False)
                if profiler:
                    profiler.disable()
                    profiler.dump_stats(Path(directory) / "webhooks.prof")
                    stats = pstats.Stats(str(Path(directory) / "webhooks.prof"))
                    stats.sort_stats(args.sort).print_stats(args.profile)
                    if args.callees:
                        stats.print_callees(args.callees)
                    if args.callers:
                        stats.print_callers(args.callers)
                print(
                    f"noop {noop_cpu * 1000 / count:.3f} ms/request, "
                    f"webhooks {cpu * 1000 / count:.3f} ms/request, "
                    f"ratio {cpu / noop_cpu:.2f} ({count} requests)"
                )

        asyncio.run(run())


if __name__ == "__main__":
    main()
