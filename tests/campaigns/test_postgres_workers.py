"""Several workers on PostgreSQL share one queue (SKIP LOCKED) and one rate budget."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns.budget import SharedBudget
from app.campaigns.dispatcher import DispatchConfig
from app.campaigns.worker import Worker
from app.db import make_engine, make_session_factory
from app.models import AttemptStatus, ContactAttempt
from tests.campaigns.support import RecordingProvider, script_composer
from tests.campaigns.test_dispatcher import seed
from tests.support.databases import backend

pytestmark = pytest.mark.skipif(
    backend() != "postgresql", reason="several workers need PostgreSQL (SQLite allows one)"
)
ATTEMPTS = 90
RATE = 15.0  # calls per second for the whole account, however many workers
WORKERS = 3


@pytest.fixture
def workers(committed_url: str) -> Iterator[list[Worker]]:
    engines = [make_engine(committed_url) for _ in range(WORKERS)]
    provider = RecordingProvider(latency=0.005)
    made = []
    for index, engine in enumerate(engines):
        factory = make_session_factory(engine)
        config = DispatchConfig(
            worker_id=f"worker-{index}",
            account_key="twilio:shared",
            account_calls_per_second=RATE,
            concurrency=4,
        )
        made.append(
            Worker(
                session_factory=factory,
                provider=provider,
                budget=SharedBudget(factory),
                composer=script_composer(),
                config=config,
                idle_sleep=0.01,
            )
        )
    yield made
    for engine in engines:
        engine.dispose()


def test_workers_place_every_attempt_once_and_share_the_accounts_rate(
    factory: sessionmaker[Session], workers: list[Worker]
) -> None:
    seed(factory, ATTEMPTS, calls_per_second=1000.0)
    threads = [threading.Thread(target=worker.run, kwargs={"once": True}) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    provider = workers[0].provider
    assert isinstance(provider, RecordingProvider)
    tokens = Counter(provider.tokens())
    assert len(tokens) == ATTEMPTS and max(tokens.values()) == 1, "each placed exactly once"
    with factory() as session:
        by_worker = dict(
            session.execute(
                select(ContactAttempt.claimed_by, func.count()).group_by(ContactAttempt.claimed_by)
            ).all()
        )
        statuses = set(session.scalars(select(ContactAttempt.status)))
    assert statuses == {AttemptStatus.PLACED}
    assert len(by_worker) >= 2, f"the queue was shared: {by_worker}"
    times = sorted(contact.at for contact in provider.contacts)
    span = (times[-1] - times[0]).total_seconds()
    burst = RATE / 10
    shared = (ATTEMPTS - burst) / RATE  # 5.9 s: one budget spent at the account's rate
    apart = shared / WORKERS  # 2.0 s: a budget per worker would go three times as fast
    # The bar sits between the two. A loaded machine delays the first calls most (connections,
    # cold caches), which shortens the span by up to a second: a bar at 90% of the shared span
    # failed on that under a parallel CI run, though the budget was shared.
    assert span >= (shared + apart) / 2, f"{ATTEMPTS} contacts in {span:.2f}s"
