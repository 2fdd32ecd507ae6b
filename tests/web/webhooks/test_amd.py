"""Answering machines: the attempt ends as voicemail and hears nothing clinical."""

from __future__ import annotations

import httpx
from sqlalchemy import event
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


async def test_a_callback_after_the_dispatcher_recorded_the_sid_sends_no_sid_update(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    """Most callbacks come after the REST answer: a guarded UPDATE that can change nothing is
    not sent. One that races the dispatcher (no SID yet) still records it."""
    sid = call_sid()
    recorded = make_attempt(
        db_session, pathway=make_pathway(db_session), status=AttemptStatus.PLACED, provider_sid=sid
    )
    racing = make_attempt(db_session, pathway=make_pathway(db_session), status=AttemptStatus.PLACED)
    other_sid = call_sid()
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(db_session.connection(), "before_cursor_execute", seen)
    try:
        for attempt, call in ((recorded, sid), (racing, other_sid)):
            response = await post_signed(
                client,
                settings,
                f"/webhooks/twilio/amd/{attempt.token}",
                {"AccountSid": ACCOUNT_SID, "CallSid": call, "AnsweredBy": "human"},
            )
            assert response.status_code == 200
    finally:
        event.remove(db_session.connection(), "before_cursor_execute", seen)
    sid_updates = [s for s in statements if "SET provider_sid" in s]
    assert len(sid_updates) == 1  # the racing attempt's alone
    db_session.refresh(recorded)
    db_session.refresh(racing)
    assert (recorded.provider_sid, racing.provider_sid) == (sid, other_sid)
    assert recorded.answered_by == racing.answered_by == "human"
