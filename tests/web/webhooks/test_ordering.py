"""Callbacks out of order: no answer is dropped, nothing moves backwards or is erased.

Twilio does not order its callbacks, and receipts can arrive long after a reply. Each test here
replays one order that once lost a patient's answer or corrupted what was recorded.
"""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import (
    Answer,
    AttemptStatus,
    Channel,
    ContactAttempt,
    Outcome,
    Pathway,
    Patient,
    ReviewItem,
    TaskReason,
    WebhookEvent,
    WorklistTask,
)
from tests.support.factories import make_pathway
from tests.support.telephony import (
    call_params,
    call_sid,
    make_attempt,
    make_reachable_pathway,
    post_signed,
    status_params,
    validation_script,
)
from tests.web.webhooks.test_sms import inbound, sms_status

ACTION = re.compile(r'action="([^"]+)"')
DATE_OF_BIRTH = "14031956"  # make_pathway's patient


def _action_path(twiml: str, settings: Settings) -> str:
    match = ACTION.search(twiml)
    assert match, twiml
    return match.group(1).replace("&amp;", "&").removeprefix(settings.public_base_url)


def _answers(session: Session, attempt: ContactAttempt) -> list[Answer]:
    return list(
        session.scalars(
            select(Answer).where(Answer.contact_attempt_id == attempt.id).order_by(Answer.id)
        )
    )


async def _call_up_to_still_needed(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> tuple[Pathway, ContactAttempt, str, str]:
    """A call answered and identity confirmed: the patient is being asked if they still need it."""
    pathway = make_pathway(db_session)
    attempt = make_attempt(
        db_session,
        pathway=pathway,
        call_script=validation_script(db_session),
        status=AttemptStatus.PLACED,
    )
    sid = call_sid()
    voice = f"/webhooks/twilio/voice/{attempt.token}"
    twiml = (await post_signed(client, settings, voice, call_params(sid))).text
    twiml = (
        await post_signed(
            client, settings, _action_path(twiml, settings), call_params(sid, Digits=DATE_OF_BIRTH)
        )
    ).text
    path = _action_path(twiml, settings)
    assert "step=still_needed" in path
    return pathway, attempt, sid, path


async def test_an_answer_that_arrives_after_the_call_completed_is_still_recorded(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    pathway, attempt, sid, still_needed = await _call_up_to_still_needed(
        client, settings, db_session
    )
    status = f"/webhooks/twilio/status/{attempt.token}"
    await post_signed(
        client, settings, status, status_params(sid, "completed", 3, CallDuration="48")
    )

    response = await post_signed(client, settings, still_needed, call_params(sid, Digits="2"))

    assert response.status_code == 200
    assert "clinician will check" in response.text
    [*_, last] = _answers(db_session, attempt)
    assert (last.step, last.raw_input) == ("still_needed", "2")
    db_session.refresh(pathway)
    assert pathway.outcome is Outcome.LEAVE
    item = db_session.scalars(select(ReviewItem).where(ReviewItem.pathway_id == pathway.id)).one()
    assert item.pathway_outcome_id is not None
    db_session.refresh(attempt)
    assert attempt.status is AttemptStatus.COMPLETED  # and it stays completed


async def test_a_late_call_status_does_not_erase_the_recorded_duration(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(db_session, pathway=make_pathway(db_session))
    sid = call_sid()
    status = f"/webhooks/twilio/status/{attempt.token}"

    await post_signed(
        client, settings, status, status_params(sid, "completed", 3, CallDuration="61")
    )
    await post_signed(
        client, settings, status, status_params(sid, "no-answer", 4, CallDuration="0")
    )

    db_session.refresh(attempt)
    assert (attempt.status, attempt.duration_seconds) == (AttemptStatus.COMPLETED, 61)


async def test_a_late_status_fills_a_duration_nobody_recorded(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(db_session, pathway=make_pathway(db_session))
    sid = call_sid()
    status = f"/webhooks/twilio/status/{attempt.token}"

    await post_signed(client, settings, status, status_params(sid, "completed", 3))
    await post_signed(
        client, settings, status, status_params(sid, "completed", 4, CallDuration="33")
    )

    db_session.refresh(attempt)
    assert attempt.duration_seconds == 33


async def _text_conversation(
    client: httpx.AsyncClient, settings: Settings, db_session: Session, number: str
) -> tuple[Pathway, ContactAttempt]:
    """A text conversation the patient has joined: identity confirmed, first question asked."""
    pathway = make_reachable_pathway(db_session, mobile_phone=number)
    attempt = make_attempt(
        db_session,
        pathway=pathway,
        channel=Channel.SMS,
        call_script=validation_script(db_session),
        status=AttemptStatus.PLACED,
        provider_sid="SM" + secrets.token_hex(16),
    )
    reply = await post_signed(
        client, settings, "/webhooks/twilio/sms", inbound(number, "14/03/1956")
    )
    assert "still need" in reply.text
    db_session.refresh(attempt)
    assert attempt.status is AttemptStatus.IN_PROGRESS
    return pathway, attempt


async def test_a_late_undelivered_receipt_does_not_end_a_conversation_the_patient_is_in(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    number = "+447700900611"
    pathway, attempt = await _text_conversation(client, settings, db_session, number)
    receipt = sms_status(attempt.provider_sid or "", "undelivered", ErrorCode="30003")

    await post_signed(client, settings, f"/webhooks/twilio/sms-status/{attempt.token}", receipt)
    reply = await post_signed(client, settings, "/webhooks/twilio/sms", inbound(number, "2"))

    db_session.refresh(attempt)
    assert attempt.status is not AttemptStatus.FAILED
    assert "cannot answer questions" not in reply.text
    [*_, last] = _answers(db_session, attempt)
    assert (last.step, last.raw_input) == ("still_needed", "2")
    db_session.refresh(pathway)
    assert pathway.outcome is Outcome.LEAVE
    assert db_session.scalars(
        select(WebhookEvent).where(
            WebhookEvent.contact_attempt_id == attempt.id, WebhookEvent.kind == "sms-status"
        )
    ).one()  # the receipt itself is kept


@pytest.mark.parametrize("stop", ["STOP", "Stop.", "STOP!", " stop "])
async def test_stop_ends_an_open_text_conversation_and_nothing_after_it_is_answered(
    client: httpx.AsyncClient, settings: Settings, db_session: Session, stop: str
) -> None:
    number = "+447700900612"
    pathway, attempt = await _text_conversation(client, settings, db_session, number)
    before = len(_answers(db_session, attempt))

    await post_signed(client, settings, "/webhooks/twilio/sms", inbound(number, stop))
    after = await post_signed(client, settings, "/webhooks/twilio/sms", inbound(number, "1"))

    assert "<Message>" not in after.text  # no automated message after an opt-out
    assert len(_answers(db_session, attempt)) == before  # "1" is not taken as an answer
    db_session.refresh(attempt)
    assert attempt.status is AttemptStatus.CANCELLED
    patient = db_session.get(Patient, pathway.patient_id)
    assert patient is not None
    db_session.refresh(patient)
    assert patient.opted_out_at is not None
    db_session.refresh(pathway)
    assert pathway.outcome is Outcome.OPTED_OUT  # shown as opted out, not as silence
    # "A member of staff will check your waiting list place": a person has the patient now.
    reasons = db_session.scalars(
        select(WorklistTask.reason).where(WorklistTask.pathway_id == pathway.id)
    ).all()
    assert reasons == [TaskReason.OPTED_OUT]
    texts = db_session.scalars(select(WebhookEvent).where(WebhookEvent.kind == "sms")).all()
    assert [event.payload["Body"] for event in texts][-1] == "1"  # what they sent is kept


async def test_please_stop_texting_me_opts_the_number_out_and_completes_the_thread(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    number = "+447700900613"
    pathway, attempt = await _text_conversation(client, settings, db_session, number)
    planned = make_attempt(db_session, pathway=pathway, status=AttemptStatus.PLANNED)

    await post_signed(
        client, settings, "/webhooks/twilio/sms", inbound(number, "please stop texting me")
    )

    patient = db_session.get(Patient, pathway.patient_id)
    assert patient is not None
    for row in (patient, attempt, planned, pathway):
        db_session.refresh(row)
    assert patient.opted_out_at is not None
    assert planned.status is AttemptStatus.CANCELLED
    assert attempt.status is AttemptStatus.COMPLETED
    assert pathway.outcome is Outcome.OPTED_OUT


async def test_stop_calling_me_on_a_call_opts_the_patient_out_for_every_campaign(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    pathway, _attempt, sid, still_needed = await _call_up_to_still_needed(
        client, settings, db_session
    )

    response = await post_signed(
        client,
        settings,
        still_needed,
        call_params(sid, SpeechResult="stop calling me", Confidence="0.91"),
    )

    assert "<Gather" not in response.text
    patient = db_session.get(Patient, pathway.patient_id)
    assert patient is not None
    db_session.refresh(patient)
    db_session.refresh(pathway)
    assert patient.opted_out_at is not None
    assert pathway.outcome is Outcome.OPTED_OUT
