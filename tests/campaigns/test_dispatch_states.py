"""Claims, crashes, webhooks (repeated too) and reconciliation in any order keep the invariants.

Never two contacts for one attempt; once the provider has an attempt, it is never queued again;
the stored SID is the provider's; a finished attempt stays finished; fences only go up.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import tempfile
import threading
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.campaigns.budget import LocalBudget
from app.campaigns.dispatcher import (
    DispatchConfig,
    DueClaim,
    Ready,
    claim_due,
    contact,
    dispatch_one,
    prepare,
)
from app.campaigns.scheduled import reconcile_in_doubt, recover_expired_leases
from app.conversations.webhooks import on_call_status
from app.db import make_engine, make_session_factory
from app.models import AttemptStatus, ContactAttempt
from app.schema import upgrade
from app.telephony.events import from_twilio_call_status
from app.telephony.provider import ProviderError, ProviderTimeoutError
from tests.campaigns.conftest import MIGRATIONS
from tests.campaigns.support import RecordingProvider, script_composer
from tests.campaigns.test_dispatcher import seed

A = AttemptStatus
ATTEMPTS = 4
FINISHED = {A.COMPLETED, A.NO_ANSWER, A.BUSY, A.FAILED, A.CANCELLED, A.VOICEMAIL}
WITH_PROVIDER = {A.PLACED, A.IN_PROGRESS, A.COMPLETED, A.NO_ANSWER, A.BUSY}
CALL_STATUSES = ["ringing", "in-progress", "completed", "no-answer", "busy"]
_template: Path | None = None


def template() -> Path:
    """One migrated SQLite file, copied for each example (migrating each time is slow)."""
    global _template
    if _template is None:
        path = Path(tempfile.mkdtemp()) / "template.db"
        upgrade(f"sqlite:///{path}", MIGRATIONS)
        _template = path
    return _template


class DispatchMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp())
        shutil.copy(template(), self.dir / "db.sqlite")
        self.engine = make_engine(f"sqlite:///{self.dir / 'db.sqlite'}")
        self.factory = make_session_factory(self.engine)
        self.now = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
        self.provider = RecordingProvider(clock=lambda: self.now)
        self.config = DispatchConfig(
            worker_id="w",
            account_key="test",
            account_calls_per_second=1e6,
            lease=dt.timedelta(seconds=120),
            reconcile_after=dt.timedelta(seconds=60),
            backoff_base_seconds=1,
            backoff_cap_seconds=2,
        )
        self.composer = script_composer()
        self.rng = random.Random(0)
        self.held: list[DueClaim] = []
        self.finished: dict[int, AttemptStatus] = {}
        self.fences: dict[int, int] = {}
        self.sequence = 0
        seed(self.factory, ATTEMPTS)

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    def session(self) -> Session:
        return self.factory()

    def attempts(self) -> list[ContactAttempt]:
        with self.session() as session:
            return list(session.scalars(select(ContactAttempt).order_by(ContactAttempt.id)))

    @rule()
    def claim(self) -> None:
        with self.session() as session:
            self.held += claim_due(session, config=self.config, now=self.now, limit=2)
            session.commit()

    @precondition(lambda self: self.held)
    @rule(index=st.integers(0, 7), failure=st.sampled_from([None, "timeout", "lost", "rate"]))
    def place(self, index: int, failure: str | None) -> None:
        """A live worker takes a claim through to the provider (or a failure)."""
        claim = self.held.pop(index % len(self.held))
        if failure == "timeout":
            self.provider.failures.append(ProviderTimeoutError("timeout"))
            self.provider.placed_anyway = True
        elif failure == "lost":
            self.provider.failures.append(ProviderTimeoutError("timeout"))
            self.provider.placed_anyway = False
        elif failure == "rate":
            self.provider.failures.append(ProviderError("rate", permanent=False, code="20429"))
        dispatch_one(
            session_factory=self.factory,
            provider=self.provider,
            budget=LocalBudget(),
            composer=self.composer,
            config=self.config,
            claim=claim,
            clock=lambda: self.now,
            stop=threading.Event(),
            rng=self.rng,
        )
        self.provider.failures.clear()

    @precondition(lambda self: self.held)
    @rule(index=st.integers(0, 7), reached_provider=st.booleans())
    def crash(self, index: int, reached_provider: bool) -> None:
        """The worker dies after moving the attempt to placing, before or after the provider."""
        claim = self.held.pop(index % len(self.held))
        with self.session() as session:
            ready = prepare(
                session,
                claim=claim,
                config=self.config,
                now=self.now,
                composer=self.composer,
                rng=self.rng,
            )
            session.commit()
        if reached_provider and isinstance(ready, Ready):
            contact(self.provider, ready)

    @precondition(lambda self: self.held)
    @rule(index=st.integers(0, 7))
    def forget_claim(self, index: int) -> None:
        """The worker dies holding a claim it never started."""
        self.held.pop(index % len(self.held))

    @rule(seconds=st.sampled_from([1, 61, 121, 3600]))
    def tick(self, seconds: int) -> None:
        self.now += dt.timedelta(seconds=seconds)

    @rule()
    def housekeeping(self) -> None:
        with self.session() as session:
            recover_expired_leases(session, now=self.now, config=self.config)
            session.commit()
        reconcile_in_doubt(
            session_factory=self.factory,
            provider=self.provider,
            config=self.config,
            clock=lambda: self.now,
        )

    @rule(
        index=st.integers(0, ATTEMPTS - 1),
        status=st.sampled_from(CALL_STATUSES),
        repeats=st.integers(1, 2),
    )
    def webhook(self, index: int, status: str, repeats: int) -> None:
        """Twilio reports on a call it placed (sometimes twice, with the same sequence number)."""
        if not self.provider.contacts:
            return
        found = self.provider.contacts[index % len(self.provider.contacts)]
        self.sequence += 1
        params = {"CallSid": found.sid, "CallStatus": status, "SequenceNumber": str(self.sequence)}
        for _ in range(repeats):
            with self.session() as session:
                on_call_status(
                    session, token=found.token, event=from_twilio_call_status(params), raw={}
                )
                session.commit()

    @invariant()
    def no_attempt_is_contacted_twice(self) -> None:
        tokens = self.provider.tokens()
        assert len(tokens) == len(set(tokens))

    @invariant()
    def what_the_provider_has_is_never_queued_again(self) -> None:
        contacted = {found.token: found.sid for found in self.provider.contacts}
        for attempt in self.attempts():
            if attempt.token in contacted:
                assert attempt.status not in (A.PLANNED, A.CLAIMED), attempt.status
                if attempt.provider_sid is not None:
                    assert attempt.provider_sid == contacted[attempt.token]
            if attempt.status in WITH_PROVIDER:
                assert attempt.token in contacted, attempt.status

    @invariant()
    def finished_stays_finished_and_fences_only_rise(self) -> None:
        for attempt in self.attempts():
            if attempt.id in self.finished:
                assert attempt.status == self.finished[attempt.id]
            elif attempt.status in FINISHED:
                self.finished[attempt.id] = attempt.status
            assert attempt.fence >= self.fences.get(attempt.id, 0)
            self.fences[attempt.id] = attempt.fence


DispatchMachine.TestCase.settings = settings(max_examples=15, stateful_step_count=25, deadline=None)
test_dispatch_states = DispatchMachine.TestCase
