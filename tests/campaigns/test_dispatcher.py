from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns.dispatcher import claim_due, record_placed
from app.campaigns.planning import new_token
from app.campaigns.scheduled import recover_expired_leases
from app.models import (
    AttemptStatus,
    CampaignStatus,
    Channel,
    ContactAttempt,
    Exclusion,
    Pathway,
)
from app.telephony.provider import ProviderError, ProviderTimeoutError
from tests.campaigns.support import RecordingProvider, make_campaign, make_worker
from tests.support.factories import make_cohort, make_pathway

A = AttemptStatus
PAST = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def plan(
    session: Session, campaign_id: int, pathway: Pathway, number: int = 1, **fields: object
) -> ContactAttempt:
    attempt = ContactAttempt(
        campaign_id=campaign_id,
        pathway_id=pathway.id,
        patient_id=pathway.patient_id,
        attempt_number=number,
        channel=fields.pop("channel", Channel.VOICE),
        status=A.PLANNED,
        token=new_token(),
        due_at=fields.pop("due_at", PAST),
        **fields,
    )
    session.add(attempt)
    session.flush()
    return attempt


def seed(factory: sessionmaker[Session], count: int = 3, **campaign: object) -> int:
    with factory() as session:
        cohort = make_cohort(session)
        made = make_campaign(session, cohort=cohort, **campaign)  # type: ignore[arg-type]
        for _ in range(count):
            plan(session, made.id, make_pathway(session, cohort=cohort))
        session.commit()
        return made.id


def statuses(factory: sessionmaker[Session]) -> list[AttemptStatus]:
    with factory() as session:
        return list(session.scalars(select(ContactAttempt.status).order_by(ContactAttempt.id)))


def test_it_places_each_due_attempt_once_and_records_the_sid(
    factory: sessionmaker[Session],
) -> None:
    seed(factory, 5)
    provider = RecordingProvider()
    make_worker(factory, provider).run(once=True)
    assert statuses(factory) == [A.PLACED] * 5
    assert len(set(provider.tokens())) == len(provider.tokens()) == 5
    with factory() as session:
        sids = set(session.scalars(select(ContactAttempt.provider_sid)))
    assert sids == {contact.sid for contact in provider.contacts}


def test_it_places_nothing_for_paused_or_cancelled_campaigns(
    factory: sessionmaker[Session],
) -> None:
    seed(factory, 2, status=CampaignStatus.PAUSED)
    seed(factory, 2, status=CampaignStatus.CANCELLED)
    provider = RecordingProvider()
    make_worker(factory, provider).run(once=True)
    assert provider.contacts == []
    assert statuses(factory) == [A.PLANNED] * 4


def test_an_opted_out_or_excluded_patient_is_not_contacted(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        cohort = make_cohort(session)
        campaign = make_campaign(session, cohort=cohort)
        opted_out = make_pathway(session, cohort=cohort, opted_out_at=PAST)
        excluded = make_pathway(session, cohort=cohort)
        session.add(
            Exclusion(pathway_id=excluded.id, rule_id="r1", reason="test", rule_set_hash="h")
        )
        plan(session, campaign.id, opted_out)
        plan(session, campaign.id, excluded)
        session.commit()
    provider = RecordingProvider()
    make_worker(factory, provider).run(once=True)
    assert provider.contacts == []
    assert statuses(factory) == [A.CANCELLED, A.CANCELLED]


def test_a_patient_never_has_two_contacts_in_flight(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        cohort = make_cohort(session)
        campaign = make_campaign(session, cohort=cohort)
        first = make_pathway(session, cohort=cohort)
        second = make_pathway(session, cohort=cohort)
        second.patient_id = first.patient_id
        plan(session, campaign.id, first)
        plan(session, campaign.id, second)
        session.commit()
    provider = RecordingProvider()
    make_worker(factory, provider).run(once=True)
    assert len(provider.contacts) == 1
    assert sorted(statuses(factory)) == sorted([A.PLACED, A.PLANNED])


def test_a_timeout_leaves_the_attempt_in_doubt_until_reconciled(
    factory: sessionmaker[Session],
) -> None:
    seed(factory, 1)
    provider = RecordingProvider(failures=[ProviderTimeoutError("no answer")], placed_anyway=True)
    worker = make_worker(factory, provider)
    worker.run(once=True)
    assert statuses(factory) == [A.IN_DOUBT]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    make_worker(factory, provider, clock=lambda: later).run(once=True)
    # The provider had placed it: reconciliation records its sid and never calls again.
    assert statuses(factory) == [A.PLACED]
    assert len(provider.contacts) == 1
    with factory() as session:
        assert session.scalar(select(ContactAttempt.provider_sid)) == provider.contacts[0].sid


def test_an_attempt_the_provider_never_placed_is_retried_after_reconciliation(
    factory: sessionmaker[Session],
) -> None:
    seed(factory, 1)
    provider = RecordingProvider(failures=[ProviderTimeoutError("no answer")])
    make_worker(factory, provider).run(once=True)
    assert statuses(factory) == [A.IN_DOUBT] and provider.contacts == []
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    worker = make_worker(factory, provider, clock=lambda: later)
    worker.run(once=True)
    worker = make_worker(factory, provider, clock=lambda: later)
    worker.run(once=True)
    assert statuses(factory) == [A.PLACED]
    assert len(provider.contacts) == 1


def test_a_rate_limit_is_retried_later_and_a_permanent_error_fails(
    factory: sessionmaker[Session],
) -> None:
    seed(factory, 2)
    provider = RecordingProvider(
        failures=[
            ProviderError("Too many requests", permanent=False, code="20429"),
            ProviderError("Invalid number", permanent=True, code="21211"),
        ]
    )
    make_worker(factory, provider, concurrency=1).run(once=True)
    with factory() as session:
        attempts = list(session.scalars(select(ContactAttempt).order_by(ContactAttempt.id)))
    by_code = {a.error_code: a for a in attempts}
    assert by_code["20429"].status == A.PLANNED and by_code["20429"].retry_count == 1
    assert by_code["20429"].due_at > dt.datetime.now(dt.UTC)
    assert by_code["21211"].status == A.FAILED


def test_a_stale_workers_late_write_is_refused(factory: sessionmaker[Session]) -> None:
    seed(factory, 1)
    now = dt.datetime.now(dt.UTC)
    worker = make_worker(factory, RecordingProvider())
    with factory() as session:
        [claim] = claim_due(session, config=worker.config, now=now, limit=10)
        # The stale worker got as far as placing, then stalled past its lease.
        session.execute(update(ContactAttempt).values(status=A.PLACING))
        session.commit()
    with factory() as session:
        recover_expired_leases(session, now=now + dt.timedelta(hours=1), config=worker.config)
        session.commit()
    with factory() as session:
        assert record_placed(session, claim=claim, sid="CAlate", now=now).value == "stale"
        session.commit()
    assert statuses(factory) == [A.IN_DOUBT]


def test_an_expired_claim_goes_back_to_the_queue_and_is_placed_once(
    factory: sessionmaker[Session],
) -> None:
    seed(factory, 1)
    now = dt.datetime.now(dt.UTC)
    provider = RecordingProvider()
    worker = make_worker(factory, provider)
    with factory() as session:
        claim_due(session, config=worker.config, now=now, limit=10)  # then the worker dies
        session.commit()
    later = now + dt.timedelta(minutes=10)
    make_worker(factory, provider, clock=lambda: later).run(once=True)
    assert statuses(factory) == [A.PLACED]
    assert len(provider.contacts) == 1


def test_a_stopped_worker_releases_what_it_had_not_started(factory: sessionmaker[Session]) -> None:
    seed(factory, 6)
    provider = RecordingProvider()
    worker = make_worker(factory, provider)
    worker.stop.set()
    worker._pool = ThreadPoolExecutor(2)
    futures = worker.claim(6)
    results = [future.result().value for future in futures]
    worker._pool.shutdown()
    assert results == ["released"] * 6
    assert statuses(factory) == [A.PLANNED] * 6
    assert provider.contacts == []
