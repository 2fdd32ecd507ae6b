"""An SMS attempt opens with the approved script's own text, and the reply continues that script."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.conversations.webhooks import on_inbound_sms
from app.models import Answer, AttemptStatus, Channel, ContactAttempt, Patient, WebhookEvent
from app.telephony.events import from_twilio_inbound
from tests.campaigns.support import (
    RecordingProvider,
    make_campaign,
    make_worker,
    script_composer,
    shipped_script,
)
from tests.campaigns.test_dispatcher import plan
from tests.support.factories import make_cohort, make_pathway

A = AttemptStatus


def seed_sms(factory: sessionmaker[Session], *, real_script: bool = True) -> int:
    with factory() as session:
        cohort = make_cohort(session)
        campaign = make_campaign(session, cohort=cohort, real_script=real_script)
        pathway = make_pathway(session, cohort=cohort)
        attempt = plan(session, campaign.id, pathway, channel=Channel.SMS)
        session.commit()
        return attempt.id


def test_the_opening_text_is_the_approved_scripts_first_message(
    factory: sessionmaker[Session],
) -> None:
    attempt_id = seed_sms(factory)
    provider = RecordingProvider()
    make_worker(factory, provider).run(once=True)
    [sent] = provider.contacts
    with factory() as session:
        attempt = session.get(ContactAttempt, attempt_id)
        assert attempt is not None
        patient = session.get(Patient, attempt.patient_id)
        assert patient is not None
        assert attempt.status == A.PLACED
        assert sent.channel == "sms" and sent.to == patient.mobile_phone
        conversation = attempt.conversation
    script = shipped_script()
    assert sent.body and "Example Hospital" in sent.body and "date of birth" in sent.body
    assert conversation["turn"] == 0
    assert conversation["state"]["flow"] == script.id == conversation["flow_id"]
    assert conversation["flow_hash"] == script.content_hash
    assert conversation["step"] is not None and conversation["outcome"] is None


def test_the_patients_reply_continues_the_conversation_the_opening_started(
    factory: sessionmaker[Session],
) -> None:
    attempt_id = seed_sms(factory)
    make_worker(factory, RecordingProvider()).run(once=True)
    with factory() as session:
        attempt = session.get(ContactAttempt, attempt_id)
        assert attempt is not None
        patient = session.get(Patient, attempt.patient_id)
        assert patient is not None and patient.mobile_phone is not None
        assert attempt.conversation["step"] == "identity"
        body = patient.date_of_birth.strftime("%d%m%Y")
        params = {"MessageSid": "SM" + "1" * 32, "From": patient.mobile_phone, "Body": body}
        text = on_inbound_sms(
            session,
            text=from_twilio_inbound(params),
            raw={},
            context=script_composer().context,
        )
        session.commit()
    with factory() as session:
        attempt = session.get(ContactAttempt, attempt_id)
        assert attempt is not None
        assert attempt.status == A.IN_PROGRESS
        assert attempt.conversation["turn"] == 1
        assert attempt.conversation["state"]["verified"] is True
        assert attempt.conversation["step"] not in (None, "identity")
        assert session.scalar(select(WebhookEvent.contact_attempt_id)) == attempt_id
        answer = session.scalars(
            select(Answer).where(Answer.contact_attempt_id == attempt_id)
        ).one()
        assert (answer.step, answer.turn) == ("identity", 1)
    assert "<Message>" in text and "date of birth" not in text


def test_nothing_is_sent_when_the_campaigns_script_has_changed(
    factory: sessionmaker[Session],
) -> None:
    attempt_id = seed_sms(factory, real_script=False)
    provider = RecordingProvider()
    make_worker(factory, provider).run(once=True)
    assert provider.contacts == []
    with factory() as session:
        attempt = session.get(ContactAttempt, attempt_id)
        assert attempt is not None
        assert (attempt.status, attempt.error_code) == (A.CANCELLED, "script_changed")
