"""Rate budgets: token buckets that keep calls per second under a cap.

On PostgreSQL every worker on every host draws from the same rows (one per Twilio account, one per
campaign), refilled from the database's clock so hosts' clocks do not matter. On SQLite only one
worker runs, so the buckets live in its memory.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

Limit = tuple[str, float]
"""A bucket key and its rate in tokens per second (the burst is a tenth of a second's worth)."""


class RateBudget(Protocol):
    """Takes one token from every bucket named, waiting as long as it must."""

    def acquire(self, limits: Sequence[Limit], *, stop: threading.Event) -> bool:
        """True once a token was taken from each bucket; False if ``stop`` was set first."""
        ...


def _burst(rate: float) -> float:
    # A tenth of a second's worth: enough to keep workers busy, too little to overshoot the cap.
    return max(1.0, rate / 10)


class LocalBudget:
    """Buckets in this process's memory (SQLite: a single worker)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def _try(self, limits: Sequence[Limit]) -> float:
        """Take the tokens and return 0, or return how long to wait."""
        with self._lock:
            now = self._clock()
            levels = {}
            for key, rate in limits:
                tokens, at = self._buckets.get(key, (_burst(rate), now))
                levels[key] = min(_burst(rate), tokens + (now - at) * rate)
            wait = max(((1 - levels[key]) / rate for key, rate in limits), default=0.0)
            if wait <= 0:
                for key, _rate in limits:
                    self._buckets[key] = (levels[key] - 1, now)
            return max(wait, 0.0)

    def acquire(self, limits: Sequence[Limit], *, stop: threading.Event) -> bool:
        """Wait for a token in every bucket."""
        while not stop.is_set():
            wait = self._try(limits)
            if wait == 0:
                return True
            stop.wait(wait)
        return False


_ENSURE = text(
    """
    INSERT INTO rate_budget (key, tokens, refilled_at)
    VALUES (:key, 0, EXTRACT(EPOCH FROM clock_timestamp()))
    ON CONFLICT (key) DO NOTHING
    """
)
# Locks the buckets (in key order, so two workers never deadlock); the clock is read afterwards,
# once the locks are held, so no worker can write a refill time older than another's.
_LOCK = text(
    "SELECT key, tokens, refilled_at FROM rate_budget WHERE key IN :keys ORDER BY key FOR UPDATE"
).bindparams(bindparam("keys", expanding=True))
_NOW = text("SELECT EXTRACT(EPOCH FROM clock_timestamp())")
_SET = text("UPDATE rate_budget SET tokens = :tokens, refilled_at = :now WHERE key = :key")


class SharedBudget:
    """Buckets in PostgreSQL rows, shared by every worker on every host.

    One short transaction reserves up to ``batch`` tokens, which this process hands to its
    waiting threads. Buying one token per placement made every placement of every worker queue on
    the same row lock, so more workers were slower than one.

    A token may be reserved up to ``reserve_ahead`` seconds before the bucket holds it (the
    bucket goes below zero) and is then spent exactly when it falls due. Polling an empty bucket
    instead lost a transaction's time per token, 2% of a 15/s cap. Tokens unspent ``keep_for``
    seconds after they fell due are dropped, never saved up, so the cap holds across workers: in
    any interval no more is spent than the buckets released.
    """

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        batch: int = 16,
        keep_for: float = 1.0,
        reserve_ahead: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._factory = session_factory
        self._batch = batch
        self._keep_for = keep_for
        self._reserve_ahead = reserve_ahead
        self._clock = clock
        self._known: set[str] = set()
        self._lock = threading.Lock()
        self._held: dict[tuple[Limit, ...], deque[float]] = {}

    def _reserve(self, limits: Sequence[Limit]) -> tuple[list[float], float]:
        """Reserve up to a batch of tokens: (seconds until each falls due, or how long to wait)."""
        rates = dict(limits)
        with self._factory() as session:
            for key in rates.keys() - self._known:
                session.execute(_ENSURE, {"key": key})
                session.commit()
                self._known.add(key)
            rows = session.execute(_LOCK, {"keys": sorted(rates)}).all()
            now = float(session.execute(_NOW).scalar_one())
            levels = {
                key: min(_burst(rates[key]), tokens + (now - refilled_at) * rates[key])
                for key, tokens, refilled_at in rows
            }
            want = max(1, min(self._batch, *(int(_burst(rate)) for rate in rates.values())))
            delays = []
            for nth in range(1, want + 1):
                due_in = max(0.0, *((nth - levels[k]) / rates[k] for k in levels))
                if due_in > self._reserve_ahead:
                    break
                delays.append(due_in)
            if not delays:
                session.rollback()
                first_due = max((1 - levels[k]) / rates[k] for k in levels)
                return [], max(first_due - self._reserve_ahead, 0.001)
            session.execute(
                _SET,
                [
                    {"key": k, "tokens": level - len(delays), "now": now}
                    for k, level in levels.items()
                ],
            )
            session.commit()
        return delays, 0.0

    def _next_held(self, key: tuple[Limit, ...]) -> float | None:
        """When this process's next reserved token falls due, dropping any gone stale."""
        held = self._held.get(key)
        while held:
            due = held.popleft()
            if self._clock() - due <= self._keep_for:
                return due
        return None

    def acquire(self, limits: Sequence[Limit], *, stop: threading.Event) -> bool:
        """Wait for a token in every bucket (from this process's reserve, else the database)."""
        key = tuple(sorted(limits))
        while not stop.is_set():
            with self._lock:
                due = self._next_held(key)
                wait = 0.0
                if due is None:
                    delays, wait = self._reserve(key)
                    if delays:
                        reserved_at = self._clock()
                        dues = deque(reserved_at + delay for delay in delays)
                        due = dues.popleft()
                        self._held[key] = dues
            if due is not None:
                early = due - self._clock()
                return not (early > 0 and stop.wait(early))
            stop.wait(wait)
        return False
