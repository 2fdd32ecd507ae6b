"""Hostile network: every callback of real simulated conversations replayed, copied at once,
delayed, or overtaken by the call's final status; no answer is lost and nothing counts twice.

The simulator plays Twilio against the app served by uvicorn over signed HTTP, as in the demo.
Here each request it sends passes through ``FaultySimulator._post``, which (seeded, so a failure
can be replayed) may:
- deliver it twice, one after the other (Twilio's retry), or twice at the same moment;
- hold it back a little (a slow network);
- before an answer (a ``gather``), deliver the call's ``completed`` first: Twilio does not order
  callbacks, and the final status can overtake the last answer;
- before a text reply, deliver a late ``undelivered`` receipt for the opening text.

Then, from what was sent and what the database holds: every answer the app accepted is stored
once; every conversation that heard its closing words has its outcome, recorded once; a copy of
a voice request got the same TwiML as the first; no request got a server error.

``WAITLIST_FAULT_CONTACTS`` (default 40 contacts per channel) and ``WAITLIST_FAULT_SEED`` run a
longer or different soak locally (see docs/operations.md).
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections import defaultdict
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns.runtime import patient_directory
from app.main import create_app
from app.models import (
    Answer,
    AttemptStatus,
    Channel,
    ContactAttempt,
    Outcome,
    Pathway,
    PathwayOutcome,
    ReviewItem,
    ReviewStatus,
)
from app.telephony.events import ALL_CALL_EVENTS
from app.telephony.personas import Directory, SimulatedPerson
from app.telephony.simulator import SimulatorProvider
from tests.support.server import free_port, serving
from tests.support.settings import make_settings
from tests.telephony.test_simulator_end_to_end import _dispatch, _plan

CONTACTS = int(os.environ.get("WAITLIST_FAULT_CONTACTS", "40"))
SEED = int(os.environ.get("WAITLIST_FAULT_SEED", "19"))
TOKEN = re.compile(r"/webhooks/twilio/(?:voice|status|amd|sms-status)/([^/?]+)")


class FaultySimulator(SimulatorProvider):
    """The simulator with a hostile network between it and the app."""

    def __init__(self, *, fault_rate: float, **simulator: Any) -> None:
        super().__init__(**simulator)
        self._faults = random.Random(SEED)  # test chaos, not security
        self._fault_lock = threading.Lock()
        self._fault_rate = fault_rate
        self.sent: list[tuple[str, dict[str, str], httpx.Response]] = []
        self.copies: list[tuple[str, httpx.Response, httpx.Response]] = []
        self._sms_status_url: dict[str, str] = {}
        self._sms_sid: dict[str, str] = {}
        self._replies: dict[str, int] = defaultdict(int)

    def _roll(self) -> float:
        with self._fault_lock:
            return self._faults.random()

    def _send(self, url: str, params: dict[str, str]) -> httpx.Response:
        response = super()._post(url, params)
        with self._fault_lock:
            self.sent.append((url, params, response))
        return response

    def _post(self, url: str, params: dict[str, str]) -> httpx.Response:
        path = urlsplit(url).path
        if self._roll() < self._fault_rate:
            time.sleep(self._roll() * 0.05)
        if path.endswith("/gather") and self._roll() < self._fault_rate:
            token = TOKEN.search(path)
            assert token is not None
            self._send(
                f"{self._base}/webhooks/twilio/status/{token.group(1)}",
                {**params, "CallStatus": "completed", "SequenceNumber": "overtaking"},
            )
        if "/sms-status/" in path:
            self._sms_status_url[params["To"]] = url
            self._sms_sid[params["To"]] = params["MessageSid"]
        if path == "/webhooks/twilio/sms":
            sender = params["From"]
            self._replies[sender] += 1
            late = self._replies[sender] > 1 and sender in self._sms_status_url
            if late and self._roll() < self._fault_rate:
                receipt = {
                    "AccountSid": params["AccountSid"],
                    "MessageSid": self._sms_sid[sender],
                    "MessageStatus": "undelivered",
                    "ErrorCode": "30003",
                    "To": sender,
                }
                self._send(self._sms_status_url[sender], receipt)
        roll = self._roll()
        if roll < self._fault_rate / 2:
            first = self._send(url, params)
            self.copies.append((url, first, self._send(url, params)))
            return first
        if roll < self._fault_rate:
            return self._at_once(url, params)
        return self._send(url, params)

    def _at_once(self, url: str, params: dict[str, str]) -> httpx.Response:
        """Two copies of one request, sent at the same moment."""
        results: list[httpx.Response] = []
        start = threading.Barrier(2)

        def send() -> None:
            start.wait()
            results.append(self._send(url, params))

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(results) == 2
        self.copies.append((url, results[0], results[1]))
        return results[0]


def _chatty(factory: sessionmaker[Session]) -> Directory:
    """Synthetic patients who answer and reply (so most contacts have conversations to break)."""
    lookup = patient_directory(factory)

    def person(phone: str) -> SimulatedPerson | None:
        found = lookup(phone)
        if found is None:
            return None
        persona = replace(
            found.persona,
            answer_rate=0.9,
            unreachable_rate=0.0,
            busy_rate=0.0,
            sms_reply_rate=1.0,
            stop_rate=0.05,
        )
        return replace(found, persona=persona)

    return person


def _is_final(twiml: str) -> bool:
    return "<Gather" not in twiml and "<Redirect" not in twiml


@pytest.mark.parametrize("channel", [Channel.VOICE, Channel.SMS])
def test_hostile_callbacks_lose_no_answer_and_count_nothing_twice(
    committed_factory: tuple[str, sessionmaker[Session]], channel: Channel
) -> None:
    url, factory = committed_factory
    port = free_port()
    settings = make_settings(url, public_base_url=f"http://127.0.0.1:{port}")
    ids = _plan(factory, channel, CONTACTS)
    app = create_app(settings)
    with serving(app, port):
        provider = FaultySimulator(
            fault_rate=0.3,
            public_base_url=settings.public_base_url,
            auth_token=settings.webhook_auth_token,
            directory=_chatty(factory),
            duplicate_rate=0.3,
            reorder_rate=0.3,
            call_events=ALL_CALL_EVENTS,  # every progress event: more to reorder and repeat
            seed=SEED,
        )
        _dispatch(factory, provider, ids, app.state.conversation_context)
        assert provider.wait_idle(timeout=180)
        provider.close()

    errors = [(u, r.status_code) for u, _p, r in provider.sent if r.status_code != 200]
    assert errors == []
    for copy_url, first, second in provider.copies:
        if "/voice/" in copy_url:
            assert second.text == first.text, copy_url  # the same TwiML, whichever came first

    with factory() as session:
        attempts = {
            a.token: a
            for a in session.scalars(select(ContactAttempt).where(ContactAttempt.id.in_(ids)))
        }
        if channel is Channel.VOICE:
            _check_calls(session, provider, attempts)
        else:
            _check_texts(session, provider, attempts)
        _check_nothing_counted_twice(session, list(attempts.values()))


def _check_calls(
    session: Session, provider: FaultySimulator, attempts: dict[str, ContactAttempt]
) -> None:
    """Each distinct question answered is one stored answer; a call that heard its closing words
    has its outcome; the recorded duration is the call's real one."""
    gathers: dict[str, set[tuple[str, str]]] = defaultdict(set)
    last_twiml: dict[str, str] = {}
    durations: dict[str, int] = {}
    for sent_url, params, response in provider.sent:
        split = urlsplit(sent_url)
        match = TOKEN.search(split.path)
        if match is None:
            continue
        key = match.group(1)
        if split.path.endswith("/gather"):
            query = parse_qs(split.query)
            gathers[key].add((query["step"][0], query["n"][0]))
        if "/voice/" in split.path:
            last_twiml[key] = response.text
        if params.get("CallStatus") == "completed" and "CallDuration" in params:
            durations[key] = int(params["CallDuration"])
    # A machine's gathers get the voicemail message and no answers: people only.
    answered = [t for t in gathers if t in attempts and attempts[t].answered_by == "human"]
    assert len(answered) > len(attempts) // 3  # the run had conversations to break
    for token in answered:
        attempt = attempts[token]
        stored = session.scalar(
            select(func.count()).select_from(Answer).where(Answer.contact_attempt_id == attempt.id)
        )
        assert stored == len(gathers[token]), token
        if _is_final(last_twiml[token]):
            pathway = session.get(Pathway, attempt.pathway_id)
            assert pathway is not None and pathway.outcome is not Outcome.PENDING, token
    for token, seconds in durations.items():
        assert attempts[token].duration_seconds == seconds, token
        assert attempts[token].status in (AttemptStatus.COMPLETED, AttemptStatus.VOICEMAIL)


def _check_texts(
    session: Session, provider: FaultySimulator, attempts: dict[str, ContactAttempt]
) -> None:
    """Every reply that the app answered with a question or a closing is a stored answer."""
    by_number = {a.to_number: a for a in attempts.values()}
    replies: dict[str, int] = defaultdict(int)
    for sent_url, params, response in provider.sent:
        if urlsplit(sent_url).path == "/webhooks/twilio/sms" and "<Message>" in response.text:
            body = params["Body"].strip().upper()
            if body not in ("STOP", "UNSUBSCRIBE"):
                replies[params["From"]] += 1
    assert sum(replies.values()) > len(attempts)
    for number, count in replies.items():
        attempt = by_number[number]
        stored = session.scalar(
            select(func.count()).select_from(Answer).where(Answer.contact_attempt_id == attempt.id)
        )
        assert stored == count, number
        assert attempt.status is not AttemptStatus.FAILED, number  # a late receipt ends nothing


def _check_nothing_counted_twice(session: Session, attempts: list[ContactAttempt]) -> None:
    ids = [a.id for a in attempts]
    per_attempt = session.execute(
        select(PathwayOutcome.contact_attempt_id, func.count())
        .where(PathwayOutcome.contact_attempt_id.in_(ids))
        .group_by(PathwayOutcome.contact_attempt_id)
    ).all()
    assert all(count == 1 for _attempt, count in per_attempt), per_attempt
    open_items = session.execute(
        select(ReviewItem.pathway_id, func.count())
        .where(ReviewItem.status == ReviewStatus.OPEN)
        .group_by(ReviewItem.pathway_id)
    ).all()
    assert all(count == 1 for _pathway, count in open_items), open_items
