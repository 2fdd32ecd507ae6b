"""Rate budgets: token buckets that keep calls per second under a cap.

On PostgreSQL every worker on every host draws from the same rows (one per Twilio account, one per
campaign), refilled from the database's clock so hosts' clocks do not matter. On SQLite only one
worker runs, so the buckets live in its memory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

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


_TAKE = text(
    """
    UPDATE rate_budget
       SET tokens = LEAST(:burst, tokens + (EXTRACT(EPOCH FROM clock_timestamp()) - refilled_at)
                                            * :rate) - 1,
           refilled_at = EXTRACT(EPOCH FROM clock_timestamp())
     WHERE key = :key
       AND LEAST(:burst, tokens + (EXTRACT(EPOCH FROM clock_timestamp()) - refilled_at) * :rate)
           >= 1
    RETURNING tokens
    """
)
_LEVEL = text(
    """
    SELECT LEAST(:burst, tokens + (EXTRACT(EPOCH FROM clock_timestamp()) - refilled_at) * :rate)
      FROM rate_budget WHERE key = :key
    """
)
_ENSURE = text(
    """
    INSERT INTO rate_budget (key, tokens, refilled_at)
    VALUES (:key, 0, EXTRACT(EPOCH FROM clock_timestamp()))
    ON CONFLICT (key) DO NOTHING
    """
)


class SharedBudget:
    """Buckets in PostgreSQL rows, shared by every worker: one short transaction per token."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._known: set[str] = set()

    def _try(self, limits: Sequence[Limit]) -> float:
        # Keys in a fixed order so two workers never deadlock on the rows.
        ordered = sorted(limits)
        with self._factory() as session:
            for key, _rate in ordered:
                if key not in self._known:
                    session.execute(_ENSURE, {"key": key})
                    session.commit()
                    self._known.add(key)
            for key, rate in ordered:
                params = {"key": key, "rate": rate, "burst": _burst(rate)}
                if session.execute(_TAKE, params).first() is None:
                    level = float(session.execute(_LEVEL, params).scalar_one())
                    session.rollback()  # gives back tokens taken from the earlier buckets
                    return max((1 - level) / rate, 0.001)
            session.commit()
        return 0.0

    def acquire(self, limits: Sequence[Limit], *, stop: threading.Event) -> bool:
        """Wait for a token in every bucket."""
        while not stop.is_set():
            wait = self._try(limits)
            if wait == 0:
                return True
            stop.wait(wait)
        return False
