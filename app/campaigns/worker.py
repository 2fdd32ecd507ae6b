"""The worker loop: claim what is due, place it with bounded concurrency, keep house, stop cleanly.

SIGTERM (or the stop event) ends claiming at once; attempts already with the provider are finished
and recorded; attempts claimed but not started are released for another worker.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy import make_url
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns import notices, outbox, scheduled
from app.campaigns.budget import RateBudget
from app.campaigns.dispatcher import DispatchConfig, Result, SmsComposer, claim_due, dispatch_one
from app.campaigns.schedules import run_due_schedules
from app.config import DEFAULT_TIMEZONE
from app.db import utcnow
from app.telephony.provider import Provider
from app.users.signin import ATTEMPTS_KEPT, prune_login_attempts
from app.worklist.escalation import escalate_overdue_tasks
from app.worklist.letters import prepare_removal_letters

log = logging.getLogger(__name__)


class WorkerAlreadyRunningError(RuntimeError):
    """A second worker was started against a SQLite database."""


@contextmanager
def single_worker_lock(database_url: str) -> Iterator[None]:
    """On SQLite, hold an exclusive lock file beside the database for the worker's lifetime.

    The operating system drops the lock when the process dies, even on SIGKILL, so a crashed
    worker never blocks its replacement. PostgreSQL needs no lock: workers share by SKIP LOCKED.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    path = Path(f"{url.database}.worker.lock")
    handle: IO[str] = path.open("a")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise WorkerAlreadyRunningError(
                f"another worker is already running against this SQLite database (lock {path}). "
                "SQLite supports one worker; use PostgreSQL to run several."
            ) from exc
        yield
    finally:
        handle.close()


def default_worker_id() -> str:
    """Host and process id: enough to tell workers apart in the attempt rows."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


@dataclass
class WorkerStats:
    """Counts of what one worker run did, by result."""

    results: dict[str, int] = field(default_factory=dict)
    claimed: int = 0
    # What became of the notices this worker claimed, by result.
    notices: dict[str, int] = field(default_factory=dict)

    def add(self, result: Result) -> None:
        """Count one result."""
        self.results[result.value] = self.results.get(result.value, 0) + 1


@dataclass
class Worker:
    """One dispatcher process's loop over the shared queue."""

    session_factory: sessionmaker[Session]
    provider: Provider
    budget: RateBudget
    composer: SmsComposer
    config: DispatchConfig
    clock: Callable[[], dt.datetime] = utcnow
    housekeeping_every: float = 5.0
    idle_sleep: float = 1.0
    stop: threading.Event = field(default_factory=threading.Event)
    stats: WorkerStats = field(default_factory=WorkerStats)
    rng: random.Random = field(default_factory=random.Random)
    # Writes the notices' words (the pre-call text, reminders); None: this worker sends none.
    notice_writer: outbox.NoticeWriter | None = None
    # A voice attempt quiet this long lost its webhooks (shorter for the simulator: see runtime).
    stale_call_after: dt.timedelta = scheduled.STALE_CALL
    # How often old sign-in attempts are deleted (by the worker's clock).
    prune_every: dt.timedelta = dt.timedelta(hours=1)
    # The trust's time zone: a worklist task falls overdue at its local midnight.
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    _next_prune: dt.datetime | None = field(default=None, init=False, repr=False)

    def housekeeping(self) -> None:
        """Start due campaigns, recover leases, reconcile doubts, run the day's schedules, plan
        follow-ups, complete, prepare the letters of confirmed removals, escalate overdue
        worklist tasks; plan reminders and send the notices that are due; now and then, delete
        sign-in attempts too old to count."""
        with self.session_factory() as session:
            now = self.clock()
            scheduled.start_due_campaigns(session, now=now)
            scheduled.recover_expired_leases(session, now=now, config=self.config)
            outbox.recover_lost_notices(session, now=now)
            session.commit()
        scheduled.reconcile_in_doubt(
            session_factory=self.session_factory,
            provider=self.provider,
            config=self.config,
            clock=self.clock,
        )
        scheduled.reconcile_stale_calls(
            session_factory=self.session_factory,
            provider=self.provider,
            clock=self.clock,
            stale_after=self.stale_call_after,
        )
        with self.session_factory() as session:
            now = self.clock()
            run_due_schedules(session, now=now, rng=self.rng)  # once a day per schedule
            scheduled.plan_follow_ups(session, now=now, rng=self.rng)
            scheduled.plan_identity_retries(session, now=now, rng=self.rng)
            notices.plan_reminders(session, now=now)
            scheduled.expire_sms_replies(session, now=now)
            scheduled.complete_finished_campaigns(session, now=now)
            # A removal past its change-of-mind window is told to the patient and the GP.
            prepare_removal_letters(session, now=now)
            escalate_overdue_tasks(session, now=now, today=now.astimezone(self.zone).date())
            session.commit()
        if self.notice_writer is not None:
            sent = outbox.send_due_notices(
                session_factory=self.session_factory,
                provider=self.provider,
                budget=self.budget,
                writer=self.notice_writer,
                config=self.config,
                clock=self.clock,
                stop=self.stop,
            )
            for result, count in sent.items():
                self.stats.notices[result] = self.stats.notices.get(result, 0) + count
        if self._next_prune is None or now >= self._next_prune:
            with self.session_factory() as session:
                pruned = prune_login_attempts(session, before=now - ATTEMPTS_KEPT)
                session.commit()
            log.info("pruned %s old sign-in attempts", pruned)
            self._next_prune = now + self.prune_every

    def claim(self, limit: int) -> list[Future[Result]]:
        """Claim up to ``limit`` due attempts (committed) and hand them to the pool."""
        with self.session_factory() as session:
            claims = claim_due(session, config=self.config, now=self.clock(), limit=limit)
            session.commit()
        self.stats.claimed += len(claims)
        return [
            self._pool.submit(
                dispatch_one,
                session_factory=self.session_factory,
                provider=self.provider,
                budget=self.budget,
                composer=self.composer,
                config=self.config,
                claim=claim,
                clock=self.clock,
                stop=self.stop,
                rng=self.rng,
            )
            for claim in claims
        ]

    def _count(self, future: Future[Result]) -> None:
        try:
            self.stats.add(future.result())
        except Exception:
            # The lease expires and recovery takes the attempt back; the loop carries on.
            log.exception("dispatching an attempt failed")
            self.stats.results["error"] = self.stats.results.get("error", 0) + 1

    def run(self, *, once: bool = False, max_seconds: float | None = None) -> WorkerStats:
        """Work until stopped, ``max_seconds`` pass, or (``once``) the queue has nothing due."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        self._pool = ThreadPoolExecutor(self.config.concurrency, thread_name_prefix="dispatch")
        in_flight: set[Future[Result]] = set()
        next_housekeeping = 0.0
        try:
            while not self.stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                if time.monotonic() >= next_housekeeping:
                    self.housekeeping()
                    next_housekeeping = time.monotonic() + self.housekeeping_every
                # Claim in batches, not one slot at a time: a claim is a transaction of its own.
                free = self.config.concurrency * 2 - len(in_flight)
                worth_claiming = free >= self.config.concurrency or not in_flight
                fresh = self.claim(min(free, self.config.batch_size)) if worth_claiming else []
                in_flight |= set(fresh)
                if not in_flight:
                    if once:
                        break
                    self.stop.wait(self.idle_sleep)
                    continue
                done, _pending = wait(in_flight, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    in_flight.discard(future)
                    self._count(future)
        finally:
            # Claimed work not yet started sees the stop flag and is released; the rest finishes.
            self.stop.set()
            for future in in_flight:
                self._count(future)
            self._pool.shutdown(wait=True)
        if once:
            self.housekeeping()
        return self.stats
