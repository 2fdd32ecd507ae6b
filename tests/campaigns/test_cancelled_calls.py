"""A call withdrawn at the provider before anyone answered (Twilio's ``canceled``) is one the
patient never heard: by webhook and by reconciliation alike it ends ``failed`` and is followed up,
never our own ``cancelled`` (which means we chose not to contact, and is not followed up)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.conversations.webhooks import on_call_status
from app.db import session_scope
from app.models import AttemptStatus, ContactAttempt
from app.telephony.events import ContactState, from_twilio_call_status
from tests.campaigns.support import RecordingProvider, make_worker
from tests.campaigns.test_dispatcher import seed
from tests.support.telephony import status_params

A = AttemptStatus


def _placed(factory: sessionmaker[Session], provider: RecordingProvider) -> ContactAttempt:
    seed(factory, 1, policy={"calls": 2, "sms": False})
    make_worker(factory, provider).run(once=True)
    with factory() as session:
        attempt = session.scalars(select(ContactAttempt)).one()
        assert attempt.status is A.PLACED
        return attempt


def _attempts(factory: sessionmaker[Session]) -> list[tuple[int, AttemptStatus, str | None]]:
    with factory() as session:
        return [
            (a.attempt_number, a.status, a.error_code)
            for a in session.scalars(select(ContactAttempt).order_by(ContactAttempt.id))
        ]


def later(hours: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)


def test_twilio_canceled_is_read_as_its_own_state() -> None:
    event = from_twilio_call_status(status_params("CA" + "0" * 32, "canceled", 2))
    assert event.state is ContactState.CANCELED


def test_a_call_canceled_at_the_provider_by_webhook_fails_and_is_followed_up(
    factory: sessionmaker[Session],
) -> None:
    provider = RecordingProvider()
    attempt = _placed(factory, provider)
    params = status_params(attempt.provider_sid or "", "canceled", 2)
    with session_scope(factory) as session:
        on_call_status(session, token=attempt.token, event=from_twilio_call_status(params), raw={})

    make_worker(factory, provider, clock=lambda: later(3)).housekeeping()

    attempts = _attempts(factory)
    assert attempts[0] == (1, A.FAILED, "canceled")
    assert [number for number, *_ in attempts] == [1, 2]  # the follow-up


def test_a_call_canceled_at_the_provider_by_reconciliation_fails_and_is_followed_up(
    factory: sessionmaker[Session],
) -> None:
    provider = RecordingProvider()
    attempt = _placed(factory, provider)
    provider.statuses[attempt.provider_sid or ""] = "canceled"

    make_worker(factory, provider, clock=lambda: later(3)).housekeeping()
    make_worker(factory, provider, clock=lambda: later(3.5)).housekeeping()

    attempts = _attempts(factory)
    assert attempts[0][:2] == (1, A.FAILED)
    assert [number for number, *_ in attempts] == [1, 2]
