"""Concurrent copies of one callback (PostgreSQL): the copy gets the first request's TwiML.

On PostgreSQL a copy that arrives while the first request is still open reads the attempt, then
waits on the first request's event insert. Once the first commits, the copy must answer with the
TwiML the first sent (the next question), not the one before it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.conversations import webhooks
from app.conversations.context import ConversationContext
from app.db import make_session_factory, session_scope
from app.flows import load_registry
from app.models import Answer, AttemptStatus
from app.telephony import events
from tests.support.databases import backend
from tests.support.factories import make_pathway
from tests.support.telephony import call_params, call_sid, make_attempt, validation_script

pytestmark = pytest.mark.skipif(
    backend() != "postgresql",
    reason="SQLite runs one writer at a time: a copy cannot read before the first commits",
)
CALL_FLOWS = Path(__file__).resolve().parents[3] / "call_flows"


def _context() -> ConversationContext:
    return ConversationContext(
        registry=load_registry(CALL_FLOWS),
        public_base_url="https://waitlist.example.test",
        organisation_name="Example Hospital",
        callback_number="0113 496 0000",
    )


def _waiting_on_a_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        waiting = connection.execute(
            text(
                "select count(*) from pg_stat_activity "
                "where datname = current_database() and wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return int(waiting) > 0


def test_a_concurrent_duplicate_gather_gets_the_first_requests_twiml(
    committed_engine: Engine,
) -> None:
    factory: sessionmaker[Session] = make_session_factory(committed_engine)
    context = _context()
    sid = call_sid()
    with session_scope(factory) as session:
        attempt = make_attempt(
            session,
            pathway=make_pathway(session),
            call_script=validation_script(session),
            status=AttemptStatus.PLACED,
        )
        token, attempt_id = attempt.token, attempt.id
        params = call_params(sid)
        webhooks.on_voice(
            session,
            token=token,
            event=events.from_twilio_answered(params),
            raw={k: [v] for k, v in params.items()},
            context=context,
        )
    answer = call_params(sid, Digits="14031956")

    def gather(session: Session) -> str:
        return webhooks.on_gather(
            session,
            token=token,
            step="identity",
            number=0,
            event=events.from_twilio_gather(answer),
            raw={k: [v] for k, v in answer.items()},
            context=context,
        )

    first_session = factory()
    first = gather(first_session)  # stored and answered, not yet committed
    copies: list[str] = []

    def copy() -> None:
        with session_scope(factory) as session:
            copies.append(gather(session))

    thread = threading.Thread(target=copy)
    thread.start()
    deadline = time.monotonic() + 10
    while not _waiting_on_a_lock(committed_engine) and time.monotonic() < deadline:
        time.sleep(0.02)
    first_session.commit()
    first_session.close()
    thread.join(timeout=30)

    assert "still need" in first
    assert copies == [first]
    with session_scope(factory) as session:
        stored = session.scalar(
            select(func.count()).select_from(Answer).where(Answer.contact_attempt_id == attempt_id)
        )
    assert stored == 1
