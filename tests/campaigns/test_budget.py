"""Rate budgets: workers buy tokens in batches from shared rows, and still never beat the cap."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns.budget import LocalBudget, SharedBudget
from tests.support.databases import backend

postgres_only = pytest.mark.skipif(
    backend() != "postgresql", reason="the shared budget lives in PostgreSQL rows"
)


class CountingSessions:
    """A session factory that counts the transactions a budget opens."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.opened = 0

    def __call__(self) -> Session:
        self.opened += 1
        return self.factory()


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sessions(factory: sessionmaker[Session]) -> Iterator[CountingSessions]:
    yield CountingSessions(factory)


def _filled_bucket(factory: sessionmaker[Session], limits: list[tuple[str, float]]) -> None:
    """Create the bucket row (it starts empty) and give it time to fill."""
    SharedBudget(factory).acquire(limits, stop=threading.Event())
    time.sleep(0.1)


@postgres_only
def test_one_transaction_buys_a_batch_and_the_rest_is_spent_locally(
    factory: sessionmaker[Session], sessions: CountingSessions
) -> None:
    limits = [("twilio:test", 1000.0)]  # a burst of 100: the batch, not the bucket, limits
    _filled_bucket(factory, limits)
    budget = SharedBudget(sessions, batch=8, clock=FakeClock())
    for _ in range(8):
        assert budget.acquire(limits, stop=threading.Event())
    assert sessions.opened == 1, "eight tokens, one purchase"
    assert budget.acquire(limits, stop=threading.Event())
    assert sessions.opened == 2, "the ninth needs another"


@postgres_only
def test_unspent_tokens_are_dropped_not_saved_up(
    factory: sessionmaker[Session], sessions: CountingSessions
) -> None:
    limits = [("twilio:test", 1000.0)]
    _filled_bucket(factory, limits)
    clock = FakeClock()
    budget = SharedBudget(sessions, batch=8, keep_for=1.0, clock=clock)
    assert budget.acquire(limits, stop=threading.Event())  # buys 8, holds 7
    assert budget.acquire(limits, stop=threading.Event())  # spends a held one
    assert sessions.opened == 1
    clock.now += 1.5  # the six still held are stale now
    assert budget.acquire(limits, stop=threading.Event())
    assert sessions.opened == 2, "stale tokens were spent instead of buying fresh ones"


@postgres_only
def test_workers_buying_in_batches_together_stay_under_the_cap(
    factory: sessionmaker[Session],
) -> None:
    rate, per_worker, workers = 200.0, 100, 3  # a burst of 20: batches of 16
    budgets = [SharedBudget(factory, batch=16) for _ in range(workers)]
    limits = [("twilio:shared", rate)]
    budgets[0].acquire(limits, stop=threading.Event())  # the row exists, empty
    stop = threading.Event()

    def spend(budget: SharedBudget) -> None:
        for _ in range(per_worker):
            assert budget.acquire(limits, stop=stop)

    threads = [threading.Thread(target=spend, args=(b,)) for b in budgets]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    span = time.monotonic() - started
    total = per_worker * workers
    # Three purses that each ignored the others would spend 300 tokens in a third of the time.
    assert span >= (total - rate / 10) / rate * 0.95, f"{total} tokens in {span:.2f}s"


def test_a_local_budget_waits_for_its_clock_to_refill() -> None:
    clock = FakeClock()
    budget = LocalBudget(clock=clock)
    limits = [("twilio:test", 10.0)]  # a burst of 1
    stop = threading.Event()
    assert budget.acquire(limits, stop=stop)
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(budget.acquire(limits, stop=stop)))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and not got, "no second token until a tenth of a second passes"
    clock.now += 0.1
    waiter.join(5)
    assert got == [True]
