"""One contact in flight per number: patients sharing a household phone are rung one at a time."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns.budget import SharedBudget
from app.campaigns.dispatcher import DispatchConfig
from app.campaigns.worker import Worker
from app.models import AttemptStatus, ContactAttempt
from tests.campaigns.support import RecordingProvider, make_campaign, make_worker, script_composer
from tests.campaigns.test_dispatcher import plan
from tests.support.databases import backend
from tests.support.factories import make_cohort, make_pathway

A = AttemptStatus


def seed_households(factory: sessionmaker[Session], households: int) -> None:
    """Two patients per household: one has the shared number as mobile, the other as landline."""
    with factory() as session:
        cohort = make_cohort(session)
        campaign = make_campaign(session, cohort=cohort)
        for n in range(households):
            number = f"+4411349{n:05d}"
            first = make_pathway(session, cohort=cohort, mobile_phone=number)
            second = make_pathway(session, cohort=cohort, mobile_phone=None, landline_phone=number)
            plan(session, campaign.id, first)
            plan(session, campaign.id, second)
        session.commit()


def attempts(factory: sessionmaker[Session]) -> list[ContactAttempt]:
    with factory() as session:
        return list(session.scalars(select(ContactAttempt).order_by(ContactAttempt.id)))


def test_a_shared_number_is_rung_once_and_the_other_patient_goes_when_that_call_ends(
    factory: sessionmaker[Session],
) -> None:
    seed_households(factory, 1)
    provider = RecordingProvider()
    now = dt.datetime.now(dt.UTC)
    make_worker(factory, provider, clock=lambda: now).run(once=True)

    assert len(provider.contacts) == 1
    placed, waiting = sorted(attempts(factory), key=lambda a: a.status != A.PLACED)
    assert (placed.status, waiting.status) == (A.PLACED, A.PLANNED)
    assert waiting.due_at.replace(tzinfo=dt.UTC) < now + dt.timedelta(minutes=10), (
        "deferred for minutes, not to another day"
    )

    with factory() as session:
        session.execute(
            update(ContactAttempt)
            .where(ContactAttempt.id == placed.id)
            .values(status=A.NO_ANSWER, ended_at=now)
        )
        session.commit()
    later = now + dt.timedelta(minutes=10)
    make_worker(factory, provider, clock=lambda: later).run(once=True)

    assert [contact.token for contact in provider.contacts] == [placed.token, waiting.token]


@pytest.mark.skipif(backend() != "postgresql", reason="several workers need PostgreSQL")
def test_several_workers_never_ring_one_number_twice_at_once(
    factory: sessionmaker[Session], committed_url: str
) -> None:
    households = 40
    seed_households(factory, households)
    provider = RecordingProvider(latency=0.002)
    workers = []
    for index in range(3):
        worker = make_worker(factory, provider, worker_id=f"worker-{index}")
        config = DispatchConfig(
            worker_id=f"worker-{index}",
            account_key="twilio:shared",
            account_calls_per_second=1000.0,
            concurrency=4,
            batch_size=8,
        )
        workers.append(
            Worker(
                session_factory=worker.session_factory,
                provider=provider,
                budget=SharedBudget(worker.session_factory),
                composer=script_composer(),
                config=config,
                idle_sleep=0.01,
            )
        )
    threads = [threading.Thread(target=w.run, kwargs={"once": True}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    per_number = Counter(contact.to for contact in provider.contacts)
    assert len(per_number) == households and max(per_number.values()) == 1
    assert Counter(a.status for a in attempts(factory)) == {
        A.PLACED: households,
        A.PLANNED: households,
    }
