"""A whole working day end to end on PostgreSQL: import, selection, dispatch, webhooks, report.

    python scripts/bench_day.py --contacts 10000                     # quick
    python scripts/bench_day.py --contacts 125000                    # the national day
    python scripts/bench_day.py --contacts 10000 --workers 2 --web 2 --server URL

On a fresh migrated database: a synthetic cohort is imported (``import_cohort``, rules and all),
a campaign selects the day's contacts (``start_campaign`` plans one call per eligible pathway),
K ``waitlist worker``-equivalent processes place them through the simulator, which plays each
call over real HTTP (signed as Twilio signs) against W uvicorn web workers serving the real app;
outcomes are recorded and review items opened by those webhooks; the campaign report and the
dashboard are built at the end.

CPU is read per process kind from ``/proc``, so other load on the machine hardly changes it: the
web workers, the dispatcher processes (less their simulator threads, timed apart with
``time.thread_time``), the simulator, and the PostgreSQL backends serving this benchmark's
database (found through ``pg_stat_activity`` and sampled while they live). Wall time depends on
what else runs on the machine: the load average is recorded at the start and the end.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.campaigns.runtime import build_worker, patient_directory  # noqa: E402
from app.campaigns.service import create_campaign, start_campaign  # noqa: E402
from app.cohort.service import import_cohort  # noqa: E402
from app.cohort.synth import synthesise  # noqa: E402
from app.config import get_settings  # noqa: E402
from app.db import make_engine, make_session_factory, read_only, session_scope, utcnow  # noqa: E402
from app.demo import calling_progress  # noqa: E402
from app.eligibility.rules import load_rules  # noqa: E402
from app.flows import ensure_call_script, load_registry  # noqa: E402
from app.models import ContactAttempt, Pathway, ReviewItem, ReviewStatus  # noqa: E402
from app.phones import PhoneError, PhoneKind, normalise_phone  # noqa: E402
from app.reports.campaign import build_campaign_report  # noqa: E402
from app.reports.dashboard import build_dashboard  # noqa: E402
from app.telephony.simulator import SimulatorProvider  # noqa: E402
from scripts.bench_webhooks import TOKEN, cpu_seconds, database  # noqa: E402
from tests.support.server import free_port  # noqa: E402

SCRIPT = "standard-validation"
DAY_POLICY: dict[str, Any] = {"calls": 1, "sms": False}  # one call each: the day's first contact
CALLS_PER_SECOND = 100.0  # the most one account's settings allow
PROGRESS_EVERY = 300.0  # seconds between progress lines
CALLED_TODAY = 0.8  # of the synthetic rows (measured: 3,200 of 4,054; 329 of 405)


# -- measuring processes -------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def tree(pid: int) -> list[int]:
    """``pid`` and all its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def high_water_mb(pid: int) -> float:
    """Peak resident memory of a live process (``VmHWM``), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class BackendMeter:
    """CPU of the PostgreSQL backends serving one database, sampled while they live."""

    def __init__(self, engine: Engine, database_name: str) -> None:
        self._engine = engine
        self._name = database_name
        self.seen: dict[int, float] = {}  # pid -> CPU seconds last read
        self.high_water_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pg-meter", daemon=True)

    def sample(self) -> None:
        """Read every backend of the database now (its own connection's included)."""
        with self._engine.connect() as connection:
            pids = connection.scalars(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :name"),
                {"name": self._name},
            ).all()
        for pid in pids:
            try:
                self.seen[pid] = cpu_seconds(pid)
                self.high_water_mb = max(self.high_water_mb, high_water_mb(pid))
            except (OSError, IndexError):
                pass  # the backend ended between the query and the read

    def total(self) -> float:
        """CPU seconds of every backend seen so far."""
        return sum(self.seen.values())

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()

    def __enter__(self) -> BackendMeter:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


# -- the dispatcher process ---------------------------------------------------------------------


class MeteredSimulator(SimulatorProvider):
    """The simulator, timing its own threads' CPU apart from the worker's and counting failures.

    It also accepts calls only as fast as it plays them (at most two per playing thread waiting),
    as a real network would ring them at once: otherwise a placed call could wait in the queue
    past the worker's stale-call limit and be settled as lost before it rang.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._room = threading.BoundedSemaphore(3 * int(kwargs.get("workers", 8)))
        self._meter = threading.Lock()
        self.cpu_seconds = 0.0
        self.posts = 0
        self.failures: dict[str, int] = {}

    def _submit(self, function: object, sid: str, request: object) -> None:
        self._room.acquire()
        super()._submit(function, sid, request)

    def _guarded(self, function: object, sid: str, request: object) -> None:
        began = time.thread_time()
        try:
            super()._guarded(function, sid, request)
        finally:
            spent = time.thread_time() - began
            with self._meter:
                self.cpu_seconds += spent
            self._room.release()

    def _post(self, url: str, params: dict[str, str]) -> httpx.Response:
        try:
            response = super()._post(url, params)
        except httpx.HTTPError as exc:
            self._fail(type(exc).__name__)
            raise
        with self._meter:
            self.posts += 1
        if response.status_code != 200:
            self._fail(f"HTTP {response.status_code}")
        return response

    def _fail(self, what: str) -> None:
        with self._meter:
            self.failures[what] = self.failures.get(what, 0) + 1


def run_worker(out: Path, concurrency: int, simulator_threads: int) -> None:
    """One dispatcher process: the real worker loop until SIGTERM, then its figures to ``out``."""
    settings = get_settings()
    engine = make_engine(settings.database_url, pool_size=concurrency + simulator_threads + 4)
    factory = make_session_factory(engine)
    provider = MeteredSimulator(
        public_base_url=settings.public_base_url,
        auth_token=settings.webhook_auth_token,
        directory=patient_directory(factory),
        duplicate_rate=settings.simulator_duplicate_rate,
        reorder_rate=settings.simulator_reorder_rate,
        seed=1,
        workers=simulator_threads,
    )
    worker = build_worker(
        settings, session_factory=factory, provider=provider, concurrency=concurrency
    )
    signal.signal(signal.SIGTERM, lambda *_: worker.stop.set())
    worker.run()
    provider.wait_idle(120)
    provider.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.write_text(
        json.dumps(
            {
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
                "simulator_cpu_seconds": provider.cpu_seconds,
                # Not ru_maxrss: a child forked from the orchestrator inherits its high-water
                # mark across exec (1,310 MB "peak" for every worker after a 156,250-row import).
                "peak_rss_mb": high_water_mb(os.getpid()),
                "posts": provider.posts,
                "failures": provider.failures,
                "claimed": worker.stats.claimed,
                "results": worker.stats.results,
            }
        )
    )
    engine.dispose()


def one_number_each(path: Path) -> None:
    """Give every synthetic patient a mobile number of their own, as real patients have.

    The synthetic cohort draws from Ofcom's drama ranges (about 12,000 numbers), so at this
    scale a dozen patients would share each number: the dispatcher would defer most placements
    (never two calls in flight to one number) and the simulator, which finds the person by the
    number dialled, would answer with another patient's date of birth. These numbers lie outside
    the drama ranges, and only this benchmark's own simulator ever sees them: no provider that
    reaches a telephone network is built here.
    """
    with path.open(newline="", encoding="utf-8") as source:
        reader = csv.DictReader(source)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    numbers = _usable_mobiles()
    people: dict[str, str] = {}
    for row in rows:
        if row["nhs_number"] not in people:
            people[row["nhs_number"]] = next(numbers)
        row["mobile_phone"] = people[row["nhs_number"]]
        row["landline_phone"] = ""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _usable_mobiles() -> Iterator[str]:
    """07700 and 07701 numbers in order, less those the import would refuse.

    libphonenumber (through ``normalise_phone``, as the import asks it) does not take every
    07700 block as a mobile: numbers from 07700 200000 were refused, and at 140,000 patients the
    import excluded 40,000 of them for having no phone, so a "national day" placed 90,742 calls.
    """
    for block in ("07700", "07701"):
        for n in range(100_000, 1_000_000):
            number = f"{block} {n:06d}"
            try:
                if normalise_phone(number).kind is PhoneKind.MOBILE:
                    yield number
            except PhoneError:
                continue
    raise ValueError("more patients than the 07700 and 07701 numbers used here")


# -- the orchestration --------------------------------------------------------------------------


def _env(url: str, port: int) -> dict[str, str]:
    return os.environ | {
        "WAITLIST_DATABASE_URL": url,
        "WAITLIST_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WAITLIST_SIMULATOR_AUTH_TOKEN": TOKEN,
        "WAITLIST_CALLS_PER_SECOND": str(CALLS_PER_SECOND),
        "WAITLIST_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


@contextmanager
def web_workers(url: str, port: int, count: int) -> Iterator[subprocess.Popen[bytes]]:
    """``count`` uvicorn worker processes serving the real app on one port."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [
            *(sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", str(count)),
            *("--no-access-log", "--log-level", "warning", "--no-server-header"),
        ],
        cwd=ROOT,
        env=_env(url, port),
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the web app did not start")
            time.sleep(0.2)
        while len(tree(process.pid)) < count + 1 and time.monotonic() < deadline:
            time.sleep(0.2)  # every worker up, so each one's CPU is counted from the start
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _stage(
    name: str, began_wall: float, began_cpu: float, meter: BackendMeter, pg_before: float
) -> dict[str, Any]:
    meter.sample()
    return {
        "stage": name,
        "wall_s": round(time.perf_counter() - began_wall, 2),
        "cpu_s": round(time.process_time() - began_cpu, 2),
        "postgresql_cpu_s": round(meter.total() - pg_before, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000, help="contacts to place today")
    parser.add_argument(
        "--rows", type=int, default=0, help="cohort rows (default: enough for --contacts)"
    )
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--workers", type=int, default=2, help="dispatcher processes (K)")
    parser.add_argument("--web", type=int, default=2, help="uvicorn web workers (W)")
    parser.add_argument("--concurrency", type=int, default=8, help="placements per worker")
    parser.add_argument("--simulator-threads", type=int, default=12, help="calls per worker")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--role", default="main", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "worker":
        run_worker(Path(args.out), args.concurrency, args.simulator_threads)
        return
    # A fifth of the synthetic rows are not called today: exclusions, and second pathways of
    # a patient (never two contacts to one person in a day) planned for a later day.
    rows = args.rows or round(args.contacts / CALLED_TODAY)
    load_start = os.getloadavg()
    started = time.perf_counter()
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "rows": rows,
        "workers": args.workers,
        "web_workers": args.web,
        "load_average_start": load_start,
        "stages": [],
    }
    with tempfile.TemporaryDirectory() as folder, database(args.server, Path(folder)) as url:
        port = free_port()
        os.environ |= _env(url, port)
        get_settings.cache_clear()
        settings = get_settings()
        engine = make_engine(url)
        factory = make_session_factory(engine)
        name = engine.url.database or ""
        with engine.connect() as connection:
            result["autovacuum"] = connection.execute(text("SHOW autovacuum")).scalar_one()
        if result["autovacuum"] != "on":
            # A CI server may run without it; production does not. Dead row versions then pile
            # up all day and every figure is pessimistic (the day ran at 10/s, not 20/s).
            print("bench_day: autovacuum is off on this server", file=sys.stderr, flush=True)
        with BackendMeter(engine, name) as meter:
            # 1. import
            csv_path = Path(folder) / "cohort.csv"
            synthesise(csv_path, rows=rows, seed=1, as_of=dt.datetime.now(settings.zone).date())
            one_number_each(csv_path)
            wall, cpu, pg = time.perf_counter(), time.process_time(), meter.total()
            with session_scope(factory) as session:
                imported = import_cohort(
                    session,
                    cohort_name="national day",
                    path=csv_path,
                    default_provider_code=settings.default_provider_code,
                    rules=load_rules(settings.exclusions_path),
                    actor="bench",
                )
                session.execute(text("ANALYZE"))
            result["stages"].append(_stage("import", wall, cpu, meter, pg))
            result["imported"] = imported.counts
            # 2. the day's selection: a campaign plans one call per eligible pathway
            wall, cpu, pg = time.perf_counter(), time.process_time(), meter.total()
            with session_scope(factory) as session:
                script = ensure_call_script(session, load_registry(settings.flows_path).get(SCRIPT))
                cohort_id = session.scalar(
                    select(Pathway.cohort_id).where(
                        Pathway.last_import_job_id == imported.import_job_id
                    )
                )
                assert cohort_id is not None
                campaign = create_campaign(
                    session,
                    name="national day (SIMULATED)",
                    cohort_id=cohort_id,
                    call_script_id=script.id,
                    provider_name="simulator",
                    account_calls_per_second=CALLS_PER_SECOND,
                    calling_windows={"always_open": True},
                    attempt_policy=DAY_POLICY,
                    calls_per_second=CALLS_PER_SECOND,
                    simulated=True,
                    timezone=settings.timezone,
                    created_by="bench",
                )
                start_campaign(session, campaign_id=campaign.id, actor="bench")
                campaign_id = campaign.id
            result["stages"].append(_stage("selection", wall, cpu, meter, pg))
            # 3. the day: K dispatchers, the simulator, W web workers
            with web_workers(url, port, args.web) as web:
                web_pids = tree(web.pid)
                web_before = sum(cpu_seconds(pid) for pid in web_pids)
                wall, cpu, pg = time.perf_counter(), time.process_time(), meter.total()
                outs = [Path(folder) / f"worker{n}.json" for n in range(args.workers)]
                workers = [
                    subprocess.Popen(  # noqa: S603 - this script, as a dispatcher
                        [
                            *(sys.executable, __file__, "--role", "worker", "--out", str(out)),
                            *("--concurrency", str(args.concurrency)),
                            *("--simulator-threads", str(args.simulator_threads)),
                        ],
                        env=_env(url, port),
                    )
                    for out in outs
                ]
                deadline = time.monotonic() + args.timeout
                open_ = total = -1
                shown = time.perf_counter()
                while time.monotonic() < deadline:
                    time.sleep(2)
                    with factory() as session:
                        open_, total = calling_progress(
                            read_only(session), campaign_id=campaign_id, now=utcnow()
                        )
                    if total and not open_:
                        break
                    if time.perf_counter() - shown >= PROGRESS_EVERY:
                        shown = time.perf_counter()
                        _show_progress(shown - wall, settled=total - open_, total=total)
                    if any(worker.poll() is not None for worker in workers):
                        break
                for worker in workers:
                    worker.send_signal(signal.SIGTERM)
                for worker in workers:
                    worker.wait(timeout=300)
                day = _stage("day (dispatch + webhooks)", wall, cpu, meter, pg)
                web_pids = tree(web.pid)
                day["web_cpu_s"] = round(sum(cpu_seconds(p) for p in web_pids) - web_before, 2)
                day["web_peak_rss_mb"] = round(max(high_water_mb(p) for p in web_pids), 1)
            figures = [json.loads(out.read_text()) for out in outs]
            simulator = sum(f["simulator_cpu_seconds"] for f in figures)
            day["worker_cpu_s"] = round(sum(f["cpu_seconds"] for f in figures) - simulator, 2)
            day["simulator_cpu_s"] = round(simulator, 2)
            day["worker_peak_rss_mb"] = round(max(f["peak_rss_mb"] for f in figures), 1)
            day["unsettled"] = open_
            result["stages"].append(day)
            result["webhook_posts"] = sum(f["posts"] for f in figures)
            failures: dict[str, int] = {}
            for figure in figures:
                for key, value in figure["failures"].items():
                    failures[key] = failures.get(key, 0) + value
                for key, value in figure["results"].items():
                    result.setdefault("dispatch_results", {}).setdefault(key, 0)
                    result["dispatch_results"][key] += value
            result["webhook_failures"] = failures
            # 4. the report and the dashboard
            for stage, build in (
                (
                    "campaign report",
                    lambda s: build_campaign_report(
                        s, campaign_id=campaign_id, settings=settings, actor="bench"
                    ),
                ),
                ("dashboard", lambda s: build_dashboard(s)),
            ):
                wall, cpu, pg = time.perf_counter(), time.process_time(), meter.total()
                with session_scope(factory) as session:  # the report's view is audited
                    build(session)
                result["stages"].append(_stage(stage, wall, cpu, meter, pg))
            with factory() as session:
                result["attempts"] = _counts(
                    session, ContactAttempt.status, ContactAttempt.campaign_id == campaign_id
                )
                result["outcomes"] = _counts(
                    session, Pathway.outcome, Pathway.cohort_id == cohort_id
                )
                result["review_items_open"] = session.scalar(
                    select(func.count()).where(
                        ReviewItem.campaign_id == campaign_id,
                        ReviewItem.status == ReviewStatus.OPEN,
                    )
                )
        pg_peak = meter.high_water_mb
        engine.dispose()
    result["wall_s"] = round(time.perf_counter() - started, 1)
    result["load_average_end"] = os.getloadavg()
    result["postgresql_peak_rss_mb"] = round(pg_peak, 1)
    result["orchestrator_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    _per_contact(result)
    print(json.dumps(result, indent=2))


def _show_progress(elapsed: float, *, settled: int, total: int) -> None:
    """A line on stderr now and then: a national day runs for hours."""
    rate = settled / max(elapsed, 1e-9)
    left = (total - settled) / rate if rate else float("inf")
    print(
        f"day: {settled:,} of {total:,} contacts settled in {elapsed / 60:.0f} min "
        f"({rate:.1f}/s, about {left / 60:.0f} min left)",
        file=sys.stderr,
        flush=True,
    )


def _counts(session: Any, column: Any, *where: Any) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).where(*where).group_by(column)).all()
    return {str(getattr(key, "value", key)): count for key, count in rows}


def _per_contact(result: dict[str, Any]) -> None:
    """Per-contact CPU by process kind, and what the server's share implies per core-hour."""
    placed = sum(
        v for k, v in result["attempts"].items() if k not in ("planned", "claimed", "cancelled")
    )
    result["contacts"] = placed
    day = next(s for s in result["stages"] if s["stage"].startswith("day"))
    server = 0.0
    per: dict[str, float] = {}
    for kind, key in (
        ("web", "web_cpu_s"),
        ("workers", "worker_cpu_s"),
        ("postgresql", "postgresql_cpu_s"),
        ("simulator", "simulator_cpu_s"),
    ):
        per[kind] = round(day[key] * 1000 / max(placed, 1), 2)
    for stage in result["stages"]:
        server += stage["cpu_s"] + stage["postgresql_cpu_s"]
    server += day["web_cpu_s"] + day["worker_cpu_s"]
    per["server_all_stages"] = round(server * 1000 / max(placed, 1), 2)
    result["cpu_ms_per_contact"] = per
    result["day_contacts_per_second"] = round(placed / max(day["wall_s"], 1e-9), 1)
    result["contacts_per_core_hour"] = round(3600 * placed / max(server, 1e-9))


if __name__ == "__main__":
    main()
