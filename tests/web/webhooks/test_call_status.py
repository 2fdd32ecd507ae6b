"""Call-progress callbacks move an attempt forward only, once, whatever order they come in."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import AttemptStatus, ContactAttempt, WebhookEvent
from tests.support.factories import make_pathway
from tests.support.telephony import call_sid, make_attempt, post_signed, status_params


async def _status(
    client: httpx.AsyncClient, settings: Settings, attempt: ContactAttempt, params: dict[str, str]
) -> httpx.Response:
    response = await post_signed(
        client, settings, f"/webhooks/twilio/status/{attempt.token}", params
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    return response


async def test_an_answered_call_goes_placed_in_progress_completed(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(db_session, pathway=make_pathway(db_session))
    sid = call_sid()

    await _status(client, settings, attempt, status_params(sid, "initiated", 0))
    db_session.refresh(attempt)
    # The SID is recorded before the dispatcher got round to it.
    assert (attempt.status, attempt.provider_sid) == (AttemptStatus.PLACED, sid)
    await _status(client, settings, attempt, status_params(sid, "ringing", 1))
    await _status(client, settings, attempt, status_params(sid, "in-progress", 2))
    db_session.refresh(attempt)
    assert attempt.answered_at is not None
    assert attempt.status is AttemptStatus.IN_PROGRESS
    response = await _status(
        client,
        settings,
        attempt,
        status_params(sid, "completed", 3, CallDuration="47", Duration="1", SipResponseCode="200"),
    )

    db_session.refresh(attempt)
    finished = (attempt.status, attempt.duration_seconds, attempt.ended_at is not None)
    assert finished == (AttemptStatus.COMPLETED, 47, True)
    assert "<Response />" in response.text


async def test_a_late_ringing_never_moves_a_finished_call_backwards(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(db_session, pathway=make_pathway(db_session))
    sid = call_sid()

    await _status(client, settings, attempt, status_params(sid, "in-progress", 2))
    await _status(client, settings, attempt, status_params(sid, "completed", 3, CallDuration="30"))
    await _status(client, settings, attempt, status_params(sid, "ringing", 1))
    await _status(client, settings, attempt, status_params(sid, "initiated", 0))

    db_session.refresh(attempt)
    assert attempt.status is AttemptStatus.COMPLETED


async def test_a_duplicate_callback_is_stored_once_and_changes_nothing(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(db_session, pathway=make_pathway(db_session))
    sid = call_sid()
    busy = status_params(sid, "busy", 2, SipResponseCode="486")

    await _status(client, settings, attempt, busy)
    await _status(client, settings, attempt, busy)

    stored = db_session.scalar(
        select(func.count()).where(WebhookEvent.contact_attempt_id == attempt.id)
    )
    db_session.refresh(attempt)
    assert stored == 1
    assert attempt.status is AttemptStatus.BUSY


async def test_a_replayed_completed_callback_cannot_change_a_terminal_state(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(db_session, pathway=make_pathway(db_session))
    sid = call_sid()
    await _status(
        client,
        settings,
        attempt,
        status_params(sid, "no-answer", 2, SipResponseCode="487", CallDuration="0"),
    )

    # A captured "completed" replayed later under a new sequence number is still refused.
    await _status(client, settings, attempt, status_params(sid, "completed", 7, CallDuration="99"))

    db_session.refresh(attempt)
    assert attempt.status is AttemptStatus.NO_ANSWER
    assert attempt.error_code == "487"


async def test_an_unreachable_number_fails_the_attempt_with_the_sip_code(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(
        db_session, pathway=make_pathway(db_session), status=AttemptStatus.PLACED
    )

    await _status(
        client, settings, attempt, status_params(call_sid(), "failed", 1, SipResponseCode="404")
    )

    db_session.refresh(attempt)
    assert attempt.status is AttemptStatus.FAILED
    assert attempt.error_code == "404"


async def test_an_unknown_token_gets_a_harmless_empty_response(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    response = await post_signed(
        client,
        settings,
        "/webhooks/twilio/status/no-such-token",
        status_params(call_sid(), "ringing", 1),
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert response.text.endswith("<Response />")


async def test_unknown_fields_are_accepted_and_kept_raw(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(db_session, pathway=make_pathway(db_session))
    sid = call_sid()

    await _status(
        client, settings, attempt, status_params(sid, "ringing", 1, ParentCallSid="", NewThing="x")
    )

    event = db_session.scalars(
        select(WebhookEvent).where(WebhookEvent.contact_attempt_id == attempt.id)
    ).one()
    assert event.payload["NewThing"] == "x"
    assert event.external_key == f"call-status:{sid}:1"


async def test_the_dispatchers_in_doubt_state_is_left_to_the_dispatcher(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    attempt = make_attempt(
        db_session, pathway=make_pathway(db_session), status=AttemptStatus.IN_DOUBT
    )
    sid = call_sid()

    await _status(client, settings, attempt, status_params(sid, "completed", 3, CallDuration="12"))

    db_session.refresh(attempt)
    assert attempt.status is AttemptStatus.IN_DOUBT
    assert attempt.provider_sid == sid  # evidence for reconciliation
