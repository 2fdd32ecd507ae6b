"""Answering machines: the attempt ends as voicemail and hears nothing clinical."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import AttemptStatus
from tests.support.factories import make_pathway
from tests.support.telephony import (
    ACCOUNT_SID,
    call_params,
    call_sid,
    make_attempt,
    post_signed,
    status_params,
    validation_script,
)


async def test_a_machine_ends_the_attempt_as_voicemail_and_hears_only_the_callback_message(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    pathway = make_pathway(db_session, specialty_name="Trauma and orthopaedics")
    attempt = make_attempt(
        db_session,
        pathway=pathway,
        call_script=validation_script(db_session),
        status=AttemptStatus.PLACED,
    )
    sid = call_sid()
    answered = await post_signed(
        client, settings, f"/webhooks/twilio/voice/{attempt.token}", call_params(sid)
    )
    assert answered.status_code == 200

    await post_signed(
        client,
        settings,
        f"/webhooks/twilio/amd/{attempt.token}",
        {
            "AccountSid": ACCOUNT_SID,
            "CallSid": sid,
            "AnsweredBy": "machine_end_beep",
            "MachineDetectionDuration": "4200",
        },
    )
    # The greeting's gather times out on the machine: the next TwiML is the voicemail.
    after = await post_signed(
        client,
        settings,
        f"/webhooks/twilio/voice/{attempt.token}/gather?step=identity&n=0",
        call_params(sid),
    )
    await post_signed(
        client,
        settings,
        f"/webhooks/twilio/status/{attempt.token}",
        status_params(sid, "completed", 3, CallDuration="20"),
    )

    db_session.refresh(attempt)
    assert attempt.status is AttemptStatus.VOICEMAIL
    assert attempt.answered_by == "machine_end_beep"
    assert "<Gather" not in after.text
    assert "<Hangup" in after.text
    assert settings.callback_number in after.text
    for clinical in ("orthopaedic", "Ada", "waiting list", "treatment", "worse"):
        assert clinical.lower() not in after.text.lower()
