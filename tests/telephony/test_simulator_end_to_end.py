"""The simulator plays Twilio against the real app served by uvicorn, over signed HTTP."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.attempts import TERMINAL
from app.campaigns.runtime import patient_directory, provider_for
from app.conversations.context import ConversationContext
from app.conversations.dialogue import start_sms_conversation
from app.db import session_scope
from app.main import create_app
from app.models import (
    Answer,
    AttemptStatus,
    Channel,
    ContactAttempt,
    NoticeStatus,
    Outcome,
    Pathway,
    Patient,
    WebhookEvent,
)
from app.telephony.events import FINAL_CALL_STATUSES
from app.telephony.personas import Directory, SimulatedPerson
from app.telephony.provider import CallRequest, SmsRequest
from app.telephony.simulator import SimulatorProvider
from tests.support.factories import make_cohort
from tests.support.notices import make_notice
from tests.support.server import free_port, serving
from tests.support.settings import make_settings
from tests.support.telephony import make_attempt, make_reachable_pathway, validation_script

CALLS = 40


def _plan(factory: sessionmaker[Session], channel: Channel, count: int) -> list[int]:
    """Patients with drama-range numbers and one attempt each, as the dispatcher leaves them."""
    with session_scope(factory) as session:
        script = validation_script(session)
        cohort = make_cohort(session)
        ids = []
        for n in range(count):
            pathway = make_reachable_pathway(
                session,
                cohort=cohort,
                mobile_phone=f"+447700900{n:03d}",
                specialty_name="Ophthalmology",
            )
            attempt = make_attempt(
                session,
                pathway=pathway,
                call_script=script,
                channel=channel,
                status=AttemptStatus.PLACING,
                to_number=f"+447700900{n:03d}",
            )
            ids.append(attempt.id)
        return ids


def _dispatch(
    factory: sessionmaker[Session],
    provider: SimulatorProvider,
    ids: list[int],
    context: ConversationContext,
) -> None:
    """What the dispatcher does after the claim: commit, place (no transaction open), record."""
    for attempt_id in ids:
        with session_scope(factory) as session:
            attempt = session.get(ContactAttempt, attempt_id)
            assert attempt is not None and attempt.to_number
            to, token, channel = attempt.to_number, attempt.token, attempt.channel
            body = None
            if channel is Channel.SMS:
                body = start_sms_conversation(session, attempt=attempt, context=context)
        if body is None:
            placed = provider.place_call(CallRequest(to=to, token=token))
        else:
            placed = provider.send_sms(SmsRequest(to=to, token=token, body=body))
        with session_scope(factory) as session:
            session.execute(
                update(ContactAttempt)
                .where(
                    ContactAttempt.id == attempt_id, ContactAttempt.status == AttemptStatus.PLACING
                )
                .values(status=AttemptStatus.PLACED, provider_sid=placed.sid)
            )


def test_simulated_calls_end_in_realistic_terminal_states_with_outcomes(
    committed_factory: tuple[str, sessionmaker[Session]],
) -> None:
    url, factory = committed_factory
    port = free_port()
    settings = make_settings(
        url,
        public_base_url=f"http://127.0.0.1:{port}",
        simulator_seed=7,
        simulator_duplicate_rate=0.3,
        simulator_reorder_rate=0.3,
    )
    ids = _plan(factory, Channel.VOICE, CALLS)
    app = create_app(settings)
    with serving(app, port):
        provider = provider_for(settings, factory)
        assert isinstance(provider, SimulatorProvider)
        _dispatch(factory, provider, ids, app.state.conversation_context)
        assert provider.wait_idle(timeout=120)
        provider.close()

    with factory() as session:
        attempts = session.scalars(select(ContactAttempt).where(ContactAttempt.id.in_(ids))).all()
        statuses = Counter(a.status for a in attempts)
        assert set(statuses) <= TERMINAL, statuses
        assert statuses[AttemptStatus.COMPLETED] > CALLS // 3
        assert all(a.provider_sid and a.provider_sid.startswith("CA") for a in attempts)
        for attempt in attempts:
            if attempt.status is AttemptStatus.VOICEMAIL:
                assert attempt.answered_by and attempt.answered_by.startswith("machine")
        outcomes = Counter(
            session.scalars(
                select(Pathway.outcome).where(Pathway.id.in_(a.pathway_id for a in attempts))
            )
        )
        assert outcomes[Outcome.STAY] + outcomes[Outcome.LEAVE] + outcomes[Outcome.WORSENED] > 0
        answers = session.scalar(select(func.count()).select_from(Answer))
        assert answers and answers > CALLS
        progress = session.scalars(
            select(WebhookEvent.payload).where(WebhookEvent.kind == "call-status")
        ).all()
        # As Twilio with the production request: each call posts its final state and nothing
        # before it (no initiated, ringing or in-progress), stored once however often it came.
        assert len(progress) == CALLS
        assert {event["CallStatus"] for event in progress} <= FINAL_CALL_STATUSES


def test_a_simulated_stop_reply_opts_the_patient_out(
    committed_factory: tuple[str, sessionmaker[Session]],
) -> None:
    url, factory = committed_factory
    port = free_port()
    settings = make_settings(url, public_base_url=f"http://127.0.0.1:{port}", simulator_seed=3)
    ids = _plan(factory, Channel.SMS, 30)
    app = create_app(settings)
    with serving(app, port):
        provider = SimulatorProvider(
            public_base_url=settings.public_base_url,
            auth_token=settings.webhook_auth_token,
            directory=_always_stop_directory(factory),
        )
        _dispatch(factory, provider, ids, app.state.conversation_context)
        assert provider.wait_idle(timeout=60)
        provider.close()

    with factory() as session:
        opted_out = session.scalar(
            select(func.count()).select_from(Patient).where(Patient.opted_out_at.is_not(None))
        )
        assert opted_out == 30


def _always_stop_directory(factory: sessionmaker[Session]) -> Directory:
    lookup = patient_directory(factory)

    def stopper(phone: str) -> SimulatedPerson | None:
        person = lookup(phone)
        if person is None:
            return None
        return replace(person, persona=replace(person.persona, sms_reply_rate=1.0, stop_rate=1.0))

    return stopper


def test_simulated_text_conversations_reach_outcomes(
    committed_factory: tuple[str, sessionmaker[Session]],
) -> None:
    url, factory = committed_factory
    port = free_port()
    settings = make_settings(url, public_base_url=f"http://127.0.0.1:{port}", simulator_seed=5)
    ids = _plan(factory, Channel.SMS, 20)
    app = create_app(settings)
    with serving(app, port):
        provider = SimulatorProvider(
            public_base_url=settings.public_base_url,
            auth_token=settings.webhook_auth_token,
            directory=_replying_directory(factory),
        )
        _dispatch(factory, provider, ids, app.state.conversation_context)
        assert provider.wait_idle(timeout=60)
        provider.close()

    with factory() as session:
        attempts = session.scalars(select(ContactAttempt).where(ContactAttempt.id.in_(ids))).all()
        assert Counter(a.status for a in attempts)[AttemptStatus.COMPLETED] == 20
        outcomes = set(
            session.scalars(
                select(Pathway.outcome).where(Pathway.id.in_(a.pathway_id for a in attempts))
            )
        )
        assert Outcome.PENDING not in outcomes


def _replying_directory(factory: sessionmaker[Session]) -> Directory:
    lookup = patient_directory(factory)

    def replier(phone: str) -> SimulatedPerson | None:
        person = lookup(phone)
        if person is None:
            return None
        return replace(
            person,
            persona=replace(person.persona, sms_reply_rate=1.0, stop_rate=0.0, silence_rate=0.0),
        )

    return replier


def test_a_simulated_patient_reads_a_notice_and_does_not_answer_it(
    committed_factory: tuple[str, sessionmaker[Session]],
) -> None:
    url, factory = committed_factory
    port = free_port()
    settings = make_settings(url, public_base_url=f"http://127.0.0.1:{port}", simulator_seed=3)
    with session_scope(factory) as session:
        cohort = make_cohort(session)
        tokens = []
        for n in range(12):
            number = f"+447700900{n:03d}"
            pathway = make_reachable_pathway(session, cohort=cohort, mobile_phone=number)
            call = make_attempt(
                session, pathway=pathway, status=AttemptStatus.PLANNED, to_number=number
            )
            notice = make_notice(session, attempt=call, status=NoticeStatus.SENT)
            tokens.append((number, notice.token))
    app = create_app(settings)
    with serving(app, port):
        provider = provider_for(settings, factory)
        assert isinstance(provider, SimulatorProvider)
        for number, token in tokens:
            request = SmsRequest(to=number, token=token, body="A notice.", kind="pre_call")
            provider.send_sms(request)
        assert provider.wait_idle(timeout=60)
        provider.close()

    with factory() as session:
        kinds = Counter(session.scalars(select(WebhookEvent.kind)))
        assert kinds["notice-status"] >= len(tokens)  # delivered, and recorded on the notices
        assert kinds["sms"] == 0 and kinds["sms-unknown"] == 0  # nobody answered a notice
        statuses = set(session.scalars(select(ContactAttempt.status)))
        assert statuses == {AttemptStatus.PLANNED}
