"""Texts: delivery receipts, STOP and START, and strangers answered without revealing anything."""

from __future__ import annotations

import secrets

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import AttemptStatus, AuditEvent, Channel, NoticeStatus, WebhookEvent
from tests.support.factories import make_pathway
from tests.support.notices import make_notice
from tests.support.telephony import ACCOUNT_SID, make_attempt, make_reachable_pathway, post_signed


def inbound(sender: str, body: str, **extra: str) -> dict[str, str]:
    sid = "SM" + secrets.token_hex(16)
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "MessagingServiceSid": "MG" + "b" * 32,
        "From": sender,
        "To": "+447700900001",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        "FromCountry": "GB",
        "ToCountry": "GB",
        **extra,
    }


def sms_status(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "From": "+447700900001",
        "To": "+447700900123",
        **extra,
    }


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        ("STOP", {"OptOutType": "STOP"}),
        ("stop ", {}),
        ("Unsubscribe", {}),
        ("STOPALL", {}),
        ("CANCEL", {}),
        ("END", {}),
        ("QUIT", {}),
        ("REVOKE", {}),
        ("OPTOUT", {}),
    ],
)
async def test_a_stop_word_opts_out_everyone_with_that_number_and_cancels_their_attempts(
    client: httpx.AsyncClient,
    settings: Settings,
    db_session: Session,
    body: str,
    extra: dict[str, str],
) -> None:
    first = make_reachable_pathway(db_session, mobile_phone="+447700900555")
    relative = make_reachable_pathway(db_session, landline_phone="+447700900555")
    planned = make_attempt(db_session, pathway=first, status=AttemptStatus.PLANNED)
    claimed = make_attempt(db_session, pathway=relative, status=AttemptStatus.CLAIMED)
    placing = make_attempt(db_session, pathway=first, status=AttemptStatus.PLACING)

    response = await post_signed(
        client, settings, "/webhooks/twilio/sms", inbound("+447700900555", body, **extra)
    )

    assert response.status_code == 200
    for attempt in (planned, claimed, placing):
        db_session.refresh(attempt)
    assert planned.status is AttemptStatus.CANCELLED
    assert claimed.status is AttemptStatus.CANCELLED
    assert placing.status is AttemptStatus.PLACING  # already with the provider: not touched
    patients = {first.patient_id, relative.patient_id}
    audits = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "patient.opted_out")
    ).all()
    assert {int(a.entity_id or 0) for a in audits} >= patients
    assert all(a.actor == "patient-sms" for a in audits)
    if extra:  # Twilio's Advanced Opt-Out already confirmed it: we add nothing
        assert "<Message>" not in response.text
    else:
        assert "<Message>" in response.text


async def test_start_reverses_an_opt_out(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    pathway = make_reachable_pathway(db_session, mobile_phone="+447700900556")
    await post_signed(client, settings, "/webhooks/twilio/sms", inbound("+447700900556", "STOP"))
    from app.models import Patient

    patient = db_session.get(Patient, pathway.patient_id)
    assert patient is not None
    db_session.refresh(patient)
    assert patient.opted_out_at is not None

    await post_signed(
        client,
        settings,
        "/webhooks/twilio/sms",
        inbound("+447700900556", "START", OptOutType="START"),
    )

    db_session.refresh(patient)
    assert patient.opted_out_at is None
    assert db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "patient.opted_in", AuditEvent.entity_id == str(patient.id)
        )
    ).one()


async def test_an_unknown_sender_is_recorded_and_answered_politely_without_details(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    make_reachable_pathway(db_session, mobile_phone="+447700900557")
    message = inbound("+447700900999", "Who is this? Is it about my operation?")

    response = await post_signed(client, settings, "/webhooks/twilio/sms", message)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert "<Message>" in response.text
    assert settings.callback_number in response.text
    assert "Ada" not in response.text
    event = db_session.scalars(
        select(WebhookEvent).where(WebhookEvent.external_key == f"sms:{message['MessageSid']}")
    ).one()
    assert event.kind == "sms-unknown"
    assert event.contact_attempt_id is None


async def test_a_repeated_inbound_text_is_handled_once(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    message = inbound("+447700900998", "hello")

    first = await post_signed(client, settings, "/webhooks/twilio/sms", message)
    again = await post_signed(client, settings, "/webhooks/twilio/sms", message)

    assert "<Message>" in first.text
    assert "<Message>" not in again.text


async def test_an_undelivered_text_fails_its_attempt_with_the_error_code(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(
        db_session,
        pathway=make_pathway(db_session),
        channel=Channel.SMS,
        status=AttemptStatus.PLACING,
    )
    sid = "SM" + secrets.token_hex(16)
    path = f"/webhooks/twilio/sms-status/{attempt.token}"

    await post_signed(client, settings, path, sms_status(sid, "sent"))
    db_session.refresh(attempt)
    assert (attempt.status, attempt.provider_sid) == (AttemptStatus.PLACED, sid)
    await post_signed(client, settings, path, sms_status(sid, "undelivered", ErrorCode="30003"))
    await post_signed(client, settings, path, sms_status(sid, "delivered"))  # out of order

    db_session.refresh(attempt)
    assert attempt.status is AttemptStatus.FAILED
    assert attempt.error_code == "30003"


async def test_a_notices_delivery_receipt_is_recorded_on_the_notice_and_changes_no_attempt(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    call = make_attempt(db_session, pathway=make_pathway(db_session), status=AttemptStatus.PLANNED)
    notice = make_notice(db_session, attempt=call, status=NoticeStatus.SENT)
    sid = "SM" + secrets.token_hex(16)
    path = f"/webhooks/twilio/sms-status/{notice.token}"

    delivered = await post_signed(client, settings, path, sms_status(sid, "delivered"))
    failed = await post_signed(
        client, settings, path, sms_status(sid, "undelivered", ErrorCode="30005")
    )
    again = await post_signed(
        client, settings, path, sms_status(sid, "undelivered", ErrorCode="30005")
    )

    assert {delivered.status_code, failed.status_code, again.status_code} == {200}
    db_session.refresh(notice)
    db_session.refresh(call)
    assert (notice.status, notice.error_code) == (NoticeStatus.FAILED, "30005")
    assert call.status is AttemptStatus.PLANNED  # the call it announced is untouched
    kinds = db_session.scalars(
        select(WebhookEvent.kind).where(WebhookEvent.external_key.like(f"%{sid}%"))
    ).all()
    assert sorted(kinds) == ["notice-status", "notice-status"]  # a duplicate is stored once
