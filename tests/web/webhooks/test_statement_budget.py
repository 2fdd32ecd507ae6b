"""How many SQL statements each webhook of an answered call sends: a ceiling a test holds.

A national day is about 700,000 webhooks, and each statement is a round trip and ORM work on the
web worker and a parse and plan in PostgreSQL. Times cannot be held in a test (they move with the
machine's load); counts can. The ceilings are today's counts, with the app wired as in
production (a fresh session per request, no identity map carried between requests). A change
that needs more must raise a ceiling here and say why in ``docs/benchmarks.md``; one that
sends fewer should lower it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from anyio import to_thread
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.db import make_session_factory, session_scope, utcnow
from app.main import create_app
from app.models import (
    AttemptStatus,
    ContactAttempt,
    Outcome,
    Pathway,
    RoundStatus,
    ValidationRound,
)
from app.validation.rounds import open_round
from app.web import deps
from tests.support.factories import make_pathway
from tests.support.settings import make_settings
from tests.support.statements import COMMIT, StatementCounter, counting_statements
from tests.support.telephony import (
    call_params,
    call_sid,
    make_attempt,
    post_signed,
    status_params,
    validation_script,
)

# Statements a webhook may send, commits included (SQLite's explicit BEGIN is not counted:
# psycopg sends PostgreSQL's without a cursor, so the counts are the same on both databases).
CEILINGS = {
    "voice": 7,  # attempt, event, in progress, pathway, patient, conversation, commit
    "gather identity": 6,  # attempt, event, pathway, answer, conversation, commit
    "gather still_needed": 6,
    "gather condition": 6,
    # The outcome: the six of a turn, plus the outcome, the pathway, the review queue (and a
    # removal a reply might undo), the round closed and the next due date from the schedule,
    # and the follow-up tasks and letters an answer settles.
    "gather mutual_aid": 16,
    "status completed": 4,  # attempt, event, the attempt ended, commit
}


@pytest.fixture
async def client(committed_engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(committed_engine.url.render_as_string(hide_password=False)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
    app.state.engine.dispose()  # the transport runs no lifespan to do it


def _placed_call(engine: Engine, sid: str) -> tuple[str, int]:
    """A placed call whose pathway has its round open, as a campaign's planning leaves it, and
    whose SID the dispatcher has recorded (most callbacks come after the provider's answer)."""
    with session_scope(make_session_factory(engine)) as session:
        pathway = make_pathway(session)
        open_round(session, pathway=pathway, now=utcnow())
        attempt = make_attempt(
            session,
            pathway=pathway,
            call_script=validation_script(session),
            status=AttemptStatus.PLACED,
            provider_sid=sid,
        )
        return attempt.token, pathway.id


def _counted(counter: StatementCounter, kind: str) -> float:
    return sum(n for s, n in counter.per_run(kind).items() if not s.startswith("BEGIN"))


async def test_each_webhook_of_an_answered_call_stays_within_its_statement_ceiling(
    client: httpx.AsyncClient, committed_engine: Engine
) -> None:
    settings = make_settings(committed_engine.url.render_as_string(hide_password=False))
    sid = call_sid()
    token, pathway_id = _placed_call(committed_engine, sid)
    gather = f"/webhooks/twilio/voice/{token}/gather"
    call = [
        ("voice", f"/webhooks/twilio/voice/{token}", call_params(sid)),
        ("gather identity", f"{gather}?step=identity&n=0", call_params(sid, Digits="14031956")),
        ("gather still_needed", f"{gather}?step=still_needed&n=1", call_params(sid, Digits="1")),
        (
            "gather condition",
            f"{gather}?step=condition&n=2",
            call_params(sid, SpeechResult="About the same.", Confidence="0.91"),
        ),
        ("gather mutual_aid", f"{gather}?step=mutual_aid&n=3", call_params(sid, Digits="2")),
        (
            "status completed",
            f"/webhooks/twilio/status/{token}",
            status_params(sid, "completed", 3, CallDuration="61"),
        ),
    ]
    with counting_statements() as counter:
        for kind, path, params in call:
            counter.start(kind)
            response = await post_signed(client, settings, path, params)
            assert response.status_code == 200, (kind, response.text)

    # The counts are of the real path: the answer was understood and recorded, the round closed.
    with Session(committed_engine) as session:
        pathway = session.get_one(Pathway, pathway_id)
        attempt = session.query(ContactAttempt).filter_by(token=token).one()
        rounds = session.query(ValidationRound).filter_by(pathway_id=pathway_id).all()
    assert pathway.outcome is Outcome.STAY
    assert attempt.status is AttemptStatus.COMPLETED
    assert [r.status for r in rounds] == [RoundStatus.CLOSED]
    assert pathway.next_due_date is not None

    sent = {kind: _counted(counter, kind) for kind in CEILINGS}
    over = {k: (n, CEILINGS[k], counter.per_run(k)) for k, n in sent.items() if n > CEILINGS[k]}
    assert not over, f"statements over the ceiling (sent, ceiling, what): {over}"
    # Each webhook is one transaction: a second commit would be a second durable write.
    assert all(counter.per_run(kind).get(COMMIT) == 1 for kind in CEILINGS)


async def test_each_webhook_commits_in_its_own_thread_and_needs_no_second_hop(
    client: httpx.AsyncClient, committed_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A national day is about 700,000 webhooks: each commits in the thread that ran it, so the
    session's dependency only closes it, on the event loop, with no second thread hop."""
    hops: list[str] = []

    async def counted(function: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(function, "__name__", repr(function)))
        return await to_thread.run_sync(function, *args, **kwargs)

    monkeypatch.setattr(deps, "run_sync", counted)  # the hop the dependency would take
    settings = make_settings(committed_engine.url.render_as_string(hide_password=False))
    sid = call_sid()
    token, _ = _placed_call(committed_engine, sid)
    for path, params in [
        (f"/webhooks/twilio/voice/{token}", call_params(sid)),
        (f"/webhooks/twilio/voice/{token}/gather?step=identity&n=0", call_params(sid, Digits="1")),
        (f"/webhooks/twilio/status/{token}", status_params(sid, "completed", 3)),
    ]:
        response = await post_signed(client, settings, path, params)
        assert response.status_code == 200, response.text

    assert hops == []
    # And what each wrote was committed before it answered.
    with Session(committed_engine) as session:
        attempt = session.query(ContactAttempt).filter_by(token=token).one()
    assert attempt.status is AttemptStatus.COMPLETED
