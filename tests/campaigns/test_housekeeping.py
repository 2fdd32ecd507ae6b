"""The worker's housekeeping keeps the sign-in throttle's table small (attempts too old to count
towards any lock are deleted, about once an hour) and escalates overdue worklist tasks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import LoginAttempt, Outcome, TaskReason, WorklistTask
from app.outcomes.service import record_outcome
from app.users.signin import ATTEMPTS_KEPT
from tests.campaigns.support import RecordingProvider, make_worker
from tests.support.factories import make_pathway

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def _attempt(factory: sessionmaker[Session], *, at: dt.datetime, username: str) -> None:
    with factory() as session:
        session.add(
            LoginAttempt(at=at, username=username, client_address="10.0.0.1", succeeded=False)
        )
        session.commit()


def _usernames(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return sorted(session.scalars(select(LoginAttempt.username)))


def test_old_sign_in_attempts_are_pruned_by_the_workers_housekeeping(
    factory: sessionmaker[Session],
) -> None:
    clock = [NOW]
    worker = make_worker(factory, RecordingProvider(), clock=lambda: clock[0])
    _attempt(factory, at=NOW - ATTEMPTS_KEPT - dt.timedelta(minutes=1), username="old")
    _attempt(factory, at=NOW - dt.timedelta(minutes=5), username="recent")

    worker.housekeeping()

    assert _usernames(factory) == ["recent"]
    # Not on every pass (every few seconds): once the hour has gone round.
    _attempt(factory, at=NOW - ATTEMPTS_KEPT - dt.timedelta(hours=2), username="older")
    clock[0] = NOW + dt.timedelta(minutes=30)
    worker.housekeeping()
    assert _usernames(factory) == ["older", "recent"]
    clock[0] = NOW + worker.prune_every
    worker.housekeeping()
    assert _usernames(factory) == ["recent"]


def test_the_workers_housekeeping_escalates_an_overdue_worklist_task(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session:
        pathway = make_pathway(session)
        record_outcome(
            session,
            pathway=pathway,
            outcome=Outcome.REPORTED_DECEASED,
            recorded={"reported_deceased": True},
            now=NOW - dt.timedelta(days=7),
        )
        session.commit()
    worker = make_worker(factory, RecordingProvider(), clock=lambda: NOW)

    worker.housekeeping()

    with factory() as session:
        task = session.scalars(select(WorklistTask)).one()
        assert task.reason == TaskReason.REPORTED_DECEASED
        assert task.escalated_at == NOW
