"""A campaign that calls through its telephony provider and texts through Notify, end to end:
the real notifications-python-client against a Notify on loopback, Notify's callbacks into the
real app, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns.runtime import build_worker
from app.config import Settings
from app.main import create_app
from app.models import (
    AttemptStatus,
    Channel,
    ContactAttempt,
    Outcome,
    Pathway,
    Patient,
    ReviewItem,
    ReviewStatus,
    WebhookEvent,
)
from app.telephony.factory import notify_provider
from app.telephony.routing import ChannelRouter
from tests.campaigns.support import RecordingProvider, make_campaign
from tests.campaigns.test_dispatcher import plan
from tests.support.factories import make_cohort, make_pathway
from tests.support.notify_server import API_KEY, TEMPLATES, FakeNotify, fake_notify
from tests.support.settings import make_settings

BEARER = "notify-callback-bearer-token-for-tests"


@pytest.fixture
def notify() -> Iterator[FakeNotify]:
    with fake_notify() as server:
        yield server


@pytest.fixture
def deployment(
    committed_factory: tuple[str, sessionmaker[Session]], notify: FakeNotify
) -> Settings:
    url, _factory = committed_factory
    return make_settings(
        url,
        organisation_name="Example Hospital",
        notify_api_key=SecretStr(API_KEY),
        notify_base_url=notify.base_url,
        notify_templates=TEMPLATES,
        notify_callback_token=SecretStr(BEARER),
    )


@pytest.fixture
async def web(deployment: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(deployment)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    app.state.engine.dispose()


async def callback(client: httpx.AsyncClient, path: str, payload: dict[str, Any]) -> None:
    response = await client.post(
        f"/webhooks/notify/{path}", json=payload, headers={"Authorization": f"Bearer {BEARER}"}
    )
    assert response.status_code == 204, response.text


def seed(factory: sessionmaker[Session]) -> tuple[int, int]:
    """A campaign texting through Notify: one patient to text, one to call."""
    with factory() as session:
        cohort = make_cohort(session)
        campaign = make_campaign(session, cohort=cohort, simulated=False)
        campaign.sms_provider = "notify"
        texted = plan(
            session, campaign.id, make_pathway(session, cohort=cohort), channel=Channel.SMS
        )
        called = plan(session, campaign.id, make_pathway(session, cohort=cohort))
        session.commit()
        return texted.id, called.id


def run_campaign(
    deployment: Settings, factory: sessionmaker[Session], calls: RecordingProvider
) -> None:
    texts = notify_provider(deployment)
    assert texts is not None
    router = ChannelRouter(voice=calls, sms={"notify": texts})
    build_worker(deployment, session_factory=factory, provider=router).run(once=True)


def patient_of(session: Session, attempt_id: int) -> tuple[ContactAttempt, Patient, Pathway]:
    attempt = session.get(ContactAttempt, attempt_id)
    assert attempt is not None
    patient = session.get(Patient, attempt.patient_id)
    pathway = session.get(Pathway, attempt.pathway_id)
    assert patient is not None and patient.mobile_phone and pathway is not None
    return attempt, patient, pathway


async def test_a_text_through_notify_its_receipt_and_the_patients_replies_reach_review(
    committed_factory: tuple[str, sessionmaker[Session]],
    deployment: Settings,
    notify: FakeNotify,
    web: httpx.AsyncClient,
) -> None:
    _url, factory = committed_factory
    texted_id, called_id = seed(factory)
    calls = RecordingProvider()

    run_campaign(deployment, factory, calls)

    # Calls through the telephony provider; texts through Notify, by the approved template.
    assert [c.channel for c in calls.contacts] == ["voice"]
    [opening] = notify.sent
    with factory() as session:
        attempt, patient, _pathway = patient_of(session, texted_id)
        token, mobile, born = attempt.token, patient.mobile_phone, patient.date_of_birth
        assert mobile is not None
        assert attempt.status is AttemptStatus.PLACED
        assert attempt.provider_sid == opening["id"]
        called = session.get(ContactAttempt, called_id)
        assert called is not None and called.provider_sid == calls.contacts[0].sid
    assert (opening["phone_number"], opening["reference"]) == (mobile, token)
    assert opening["template"]["id"] == TEMPLATES["opening"]
    assert "Example Hospital" in opening["body"] and "date of birth" in opening["body"]

    await callback(web, "status", notify.callback_status(opening, "delivered"))
    await callback(web, "received-text", notify.callback_received(mobile, born.strftime("%d%m%Y")))

    question = notify.sent[1]
    assert question["template"]["id"] == TEMPLATES["reply"]
    assert question["reference"] == f"{token}.1"
    assert "still need" in question["body"] and question["phone_number"] == mobile

    no_longer = notify.callback_received(mobile, "2")
    await callback(web, "received-text", no_longer)
    await callback(web, "received-text", no_longer)  # Notify's retry: nothing more happens
    await callback(web, "status", notify.callback_status(notify.sent[2], "delivered"))

    assert len(notify.sent) == 3
    with factory() as session:
        attempt, _patient, pathway = patient_of(session, texted_id)
        assert attempt.status is AttemptStatus.COMPLETED
        assert pathway.outcome is Outcome.LEAVE
        item = session.scalars(select(ReviewItem).where(ReviewItem.pathway_id == pathway.id)).one()
        assert (item.status, item.reason) == (ReviewStatus.OPEN, "leave")
        stored = session.scalars(
            select(WebhookEvent.kind)
            .where(WebhookEvent.source == "notify", WebhookEvent.contact_attempt_id == texted_id)
            .order_by(WebhookEvent.id)
        ).all()
    assert stored == ["sms-status", "sms", "sms", "sms-status"]


async def test_an_answer_notify_would_not_send_puts_the_patient_in_front_of_a_person(
    committed_factory: tuple[str, sessionmaker[Session]],
    deployment: Settings,
    notify: FakeNotify,
    web: httpx.AsyncClient,
) -> None:
    _url, factory = committed_factory
    texted_id, _called_id = seed(factory)
    run_campaign(deployment, factory, RecordingProvider())
    with factory() as session:
        _attempt, patient, _pathway = patient_of(session, texted_id)
        mobile, born = patient.mobile_phone, patient.date_of_birth
    assert mobile is not None
    notify.failures.append((500, "Exception", "Internal server error"))

    await callback(web, "received-text", notify.callback_received(mobile, born.strftime("%d%m%Y")))

    assert len(notify.sent) == 1  # the opening only: the next question never went
    with factory() as session:
        _attempt, _patient, pathway = patient_of(session, texted_id)
        assert pathway.outcome is Outcome.UNCLEAR
        item = session.scalars(select(ReviewItem).where(ReviewItem.pathway_id == pathway.id)).one()
        assert item.reason == "unclear"
        unsent = session.scalars(
            select(WebhookEvent).where(WebhookEvent.kind == "reply-unsent")
        ).one()
        assert unsent.contact_attempt_id == texted_id
        assert "HTTP 500" in unsent.payload["error"]


def test_a_campaign_texting_through_notify_where_notify_is_not_configured_sends_nothing(
    committed_factory: tuple[str, sessionmaker[Session]],
) -> None:
    url, factory = committed_factory
    texted_id, _called_id = seed(factory)
    calls = RecordingProvider()
    build_worker(make_settings(url), session_factory=factory, provider=calls).run(once=True)
    assert [c.channel for c in calls.contacts] == ["voice"]  # the text did not go by Twilio
    with factory() as session:
        attempt = session.get(ContactAttempt, texted_id)
        assert attempt is not None
        assert (attempt.status, attempt.error_code) == (AttemptStatus.FAILED, "sms-provider")
