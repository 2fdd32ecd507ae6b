"""A voice conversation over signed webhooks: identity first, answers stored once, an outcome."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import Answer, AttemptStatus, ContactAttempt, Outcome, Pathway
from tests.support.factories import make_pathway
from tests.support.telephony import (
    call_params,
    call_sid,
    make_attempt,
    post_signed,
    validation_script,
)

ACTION = re.compile(r'action="([^"]+)"')


def _action_path(twiml: str, settings: Settings) -> str:
    match = ACTION.search(twiml)
    assert match, twiml
    return match.group(1).replace("&amp;", "&").removeprefix(settings.public_base_url)


async def _answer_call(
    client: httpx.AsyncClient, settings: Settings, attempt: ContactAttempt, sid: str
) -> httpx.Response:
    response = await post_signed(
        client, settings, f"/webhooks/twilio/voice/{attempt.token}", call_params(sid)
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    return response


def _voice_attempt(db_session: Session) -> tuple[Pathway, ContactAttempt]:
    pathway = make_pathway(db_session, specialty_name="Trauma and orthopaedics")
    attempt = make_attempt(
        db_session,
        pathway=pathway,
        call_script=validation_script(db_session),
        status=AttemptStatus.PLACED,
    )
    return pathway, attempt


async def test_it_greets_at_once_and_asks_for_the_date_of_birth_before_anything_clinical(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    _, attempt = _voice_attempt(db_session)

    response = await _answer_call(client, settings, attempt, call_sid())

    assert "<Gather" in response.text
    assert 'actionOnEmptyResult="true"' in response.text
    assert "date of birth" in response.text
    assert "orthopaedics" not in response.text.lower()
    assert "Ada" not in response.text
    db_session.refresh(attempt)
    assert attempt.status is AttemptStatus.IN_PROGRESS


async def test_a_whole_call_stores_each_answer_with_the_script_and_records_the_outcome(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    pathway, attempt = _voice_attempt(db_session)
    sid = call_sid()
    twiml = (await _answer_call(client, settings, attempt, sid)).text

    for heard in (
        {"Digits": "14031956", "FinishedOnKey": "", "msg": "Gather End"},
        {"SpeechResult": "Yes I still need it.", "Confidence": "0.9123"},
        {"Digits": "1"},  # worse
    ):
        twiml = (
            await post_signed(
                client, settings, _action_path(twiml, settings), call_params(sid, **heard)
            )
        ).text

    assert "<Gather" not in twiml
    assert "111" in twiml  # the safety net on every worsened path
    answers = db_session.scalars(
        select(Answer).where(Answer.contact_attempt_id == attempt.id)
    ).all()
    assert len(answers) >= 3
    assert {(a.flow_id, a.flow_version) for a in answers} == {("standard-validation", 1)}
    assert all(len(a.flow_hash) == 64 for a in answers)
    db_session.refresh(pathway)
    assert pathway.outcome is Outcome.WORSENED


async def test_a_duplicate_gather_changes_nothing_and_gets_the_same_twiml(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    _, attempt = _voice_attempt(db_session)
    sid = call_sid()
    first = (await _answer_call(client, settings, attempt, sid)).text
    path = _action_path(first, settings)
    dob = call_params(sid, Digits="14031956")

    once = await post_signed(client, settings, path, dob)
    twice = await post_signed(client, settings, path, dob)

    assert once.text == twice.text
    answers = db_session.scalars(
        select(Answer).where(Answer.contact_attempt_id == attempt.id)
    ).all()
    assert len(answers) == 1


async def test_a_retried_answer_url_request_repeats_the_first_prompt(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    _, attempt = _voice_attempt(db_session)
    sid = call_sid()

    first = await _answer_call(client, settings, attempt, sid)
    again = await _answer_call(client, settings, attempt, sid)

    assert first.text == again.text


async def test_speech_without_confidence_is_still_understood_or_confirmed(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    _, attempt = _voice_attempt(db_session)
    sid = call_sid()
    twiml = (await _answer_call(client, settings, attempt, sid)).text
    twiml = (
        await post_signed(
            client, settings, _action_path(twiml, settings), call_params(sid, Digits="14031956")
        )
    ).text

    response = await post_signed(
        client,
        settings,
        _action_path(twiml, settings),
        call_params(sid, SpeechResult="Yes I still need it."),
    )

    assert response.status_code == 200
    answer = db_session.scalars(
        select(Answer).where(Answer.contact_attempt_id == attempt.id, Answer.input_kind == "speech")
    ).one()
    assert answer.confidence is None
    assert answer.raw_input == "Yes I still need it."


async def test_an_empty_gather_asks_again_without_moving_on(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    pathway, attempt = _voice_attempt(db_session)
    sid = call_sid()
    twiml = (await _answer_call(client, settings, attempt, sid)).text

    again = await post_signed(client, settings, _action_path(twiml, settings), call_params(sid))

    assert "<Gather" in again.text
    assert "date of birth" in again.text
    assert "orthopaedics" not in again.text.lower()
    db_session.refresh(pathway)
    assert pathway.outcome is Outcome.PENDING


async def test_a_wrong_date_of_birth_never_reveals_the_patients_care(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    pathway, attempt = _voice_attempt(db_session)
    sid = call_sid()
    twiml = (await _answer_call(client, settings, attempt, sid)).text

    for _ in range(4):
        if "<Gather" not in twiml:
            break
        twiml = (
            await post_signed(
                client, settings, _action_path(twiml, settings), call_params(sid, Digits="01011900")
            )
        ).text
        assert "orthopaedics" not in twiml.lower()

    db_session.refresh(pathway)
    assert pathway.outcome is Outcome.UNVERIFIED
