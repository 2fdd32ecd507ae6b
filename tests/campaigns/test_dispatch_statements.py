"""How many SQL statements placing one attempt sends: a ceiling a test holds.

A national day is about 125,000 placements, and dispatch is CPU-bound on a small server: each
statement is a round trip, ORM work in the worker and a parse and plan in PostgreSQL. Times move
with the machine's load; counts do not. The ceilings are today's counts. A change that needs more
must raise one here and say why in ``docs/benchmarks.md``; one that sends fewer should lower it.
"""

from __future__ import annotations

import random
import threading

from sqlalchemy.orm import Session, sessionmaker

from app.campaigns.budget import LocalBudget
from app.campaigns.dispatcher import DispatchConfig, Result, claim_due, dispatch_one
from app.db import utcnow
from app.models import AttemptStatus, ContactAttempt
from tests.campaigns.support import RecordingProvider, script_composer
from tests.campaigns.test_placing_check import Scene
from tests.support.statements import COMMIT, counting_statements

CONFIG = DispatchConfig(worker_id="w", account_key="test", account_calls_per_second=1000.0)


def _one_claimed(factory: sessionmaker[Session]) -> int:
    """A due attempt of a running campaign, planned in an open round, as planning leaves it."""
    with factory() as session:
        attempt_id = Scene.due(session).attempt.id
        session.commit()
        return attempt_id


def test_placing_an_attempt_sends_a_fixed_handful_of_statements(
    factory: sessionmaker[Session],
) -> None:
    attempt_id = _one_claimed(factory)
    with factory() as session:
        [claim] = claim_due(session, config=CONFIG, now=utcnow(), limit=1)
        session.commit()
    provider = RecordingProvider()
    with counting_statements() as counter:
        counter.start("place")
        result = dispatch_one(
            session_factory=factory,
            provider=provider,
            budget=LocalBudget(),
            composer=script_composer(),
            config=CONFIG,
            claim=claim,
            clock=utcnow,
            stop=threading.Event(),
            rng=random.Random(1),
        )
    assert result == Result.PLACED
    with factory() as session:
        attempt = session.get(ContactAttempt, attempt_id)
        assert attempt is not None and attempt.status == AttemptStatus.PLACED
    # SQLite's explicit BEGIN is not counted: psycopg sends PostgreSQL's without a cursor.
    sent = {s: n for s, n in counter.per_run("place").items() if not s.startswith("BEGIN")}
    postgres = factory.kw["bind"].dialect.name == "postgresql"
    # The placing row (locked), the household number's lock (PostgreSQL only), the move to
    # placing guarded by the six facts, its commit; then the provider's id, committed.
    assert sum(sent.values()) <= (6 if postgres else 5), sent
    assert sent[COMMIT] <= 2, sent
    # Every column the placing check reads comes with the placing row (a lazy load of one left
    # out would be a round trip more per placement), and the facts are read by the move itself.
    reads = [s for s in sent if s.startswith("SELECT")]
    assert len(reads) == (2 if postgres else 1), sent
    moves = [s for s in sent if s.startswith("UPDATE contact_attempt")]
    assert len(moves) == 2, sent
