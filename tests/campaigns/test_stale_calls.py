"""Calls whose webhooks never came are settled by asking the provider, so campaigns can end."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns.runtime import build_worker
from app.models import AttemptStatus, Campaign, CampaignStatus, ContactAttempt
from app.telephony.events import ContactState
from app.telephony.provider import CallRequest
from app.telephony.simulator import SimulatorProvider
from tests.campaigns.support import RecordingProvider, make_worker, script_composer
from tests.campaigns.test_dispatcher import seed
from tests.support.settings import make_settings

A = AttemptStatus


def place_one(factory: sessionmaker[Session], provider: RecordingProvider) -> int:
    campaign_id = seed(factory, 1, policy={"calls": 1, "sms": False})
    make_worker(factory, provider).run(once=True)
    with factory() as session:
        assert session.scalar(select(ContactAttempt.status)) == A.PLACED
    return campaign_id


def later(hours: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)


def test_a_call_silent_for_hours_takes_the_providers_final_state_and_the_campaign_completes(
    factory: sessionmaker[Session],
) -> None:
    provider = RecordingProvider()
    campaign_id = place_one(factory, provider)
    provider.statuses[provider.contacts[0].sid] = "no-answer"
    make_worker(factory, provider, clock=lambda: later(3)).housekeeping()
    with factory() as session:
        attempt = session.scalars(select(ContactAttempt)).one()
        assert (attempt.status, attempt.error_code) == (A.NO_ANSWER, "no_webhook")
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None and campaign.status == CampaignStatus.COMPLETED


def test_a_call_the_provider_never_heard_of_ends_failed_as_lost(
    factory: sessionmaker[Session],
) -> None:
    provider = RecordingProvider()
    place_one(factory, provider)
    provider.contacts.clear()
    make_worker(factory, provider, clock=lambda: later(3)).housekeeping()
    with factory() as session:
        attempt = session.scalars(select(ContactAttempt)).one()
        assert (attempt.status, attempt.error_code) == (A.FAILED, "lost")


def test_a_call_still_live_at_the_provider_is_left_and_not_asked_about_again_at_once(
    factory: sessionmaker[Session],
) -> None:
    provider = RecordingProvider()
    place_one(factory, provider)
    provider.statuses[provider.contacts[0].sid] = "in-progress"
    worker = make_worker(factory, provider, clock=lambda: later(3))
    worker.housekeeping()
    worker.housekeeping()
    assert provider.lookups == 1
    with factory() as session:
        assert session.scalar(select(ContactAttempt.status)) == A.PLACED


def test_a_recent_call_is_not_asked_about(factory: sessionmaker[Session]) -> None:
    provider = RecordingProvider()
    place_one(factory, provider)
    make_worker(factory, provider, clock=lambda: later(1)).housekeeping()
    assert provider.lookups == 0


def test_a_simulated_call_whose_worker_died_is_settled_within_minutes_not_hours(
    factory: sessionmaker[Session], committed_url: str
) -> None:
    """The call's thread died with its worker; a fresh worker's simulator has no record of it."""
    place_one(factory, RecordingProvider())
    restarted = SimulatorProvider(
        public_base_url="http://127.0.0.1:9", auth_token="t", directory=lambda _phone: None
    )
    try:
        worker = build_worker(
            make_settings(committed_url),
            session_factory=factory,
            provider=restarted,
            composer=script_composer(),
        )
        worker.clock = lambda: later(0.25)
        worker.housekeeping()
    finally:
        restarted.close()
    with factory() as session:
        attempt = session.scalars(select(ContactAttempt)).one()
        assert (attempt.status, attempt.error_code) == (A.FAILED, "lost")


def test_the_simulator_drops_a_call_that_runs_past_its_longest_call() -> None:
    posted: list[str] = []
    simulator = SimulatorProvider(
        public_base_url="http://127.0.0.1:9",
        auth_token="t",
        directory=lambda _phone: None,
        max_call_seconds=0,
    )

    def record(url: str, _params: dict[str, str]) -> None:
        posted.append(url)

    simulator._post = record  # type: ignore[method-assign,assignment]
    try:
        placed = simulator.place_call(CallRequest(to="+447700900123", token="tok"))
        assert simulator.wait_idle(timeout=10)
    finally:
        simulator.close()
    assert posted == [], "nothing is posted after the call's time is up"
    found = simulator.find_contact(channel="voice", to="+447700900123", since=later(-1))
    assert found is not None and (found.sid, found.state) == (placed.sid, ContactState.FAILED)
    assert simulator.longest_call == dt.timedelta(seconds=15)
