"""A provider for tests that honours the Provider protocol, and campaign set-up helpers."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.campaigns.budget import LocalBudget
from app.campaigns.dispatcher import DispatchConfig
from app.campaigns.messages import ScriptSmsComposer
from app.campaigns.worker import Worker
from app.conversations.context import ConversationContext
from app.flows import LoadedScript, ensure_call_script, load_registry
from app.models import CallScript, Campaign, CampaignStatus, Cohort
from app.telephony.events import twilio_state
from app.telephony.provider import (
    CallRequest,
    ChannelName,
    Placed,
    ProviderContact,
    ProviderError,
    ProviderTimeoutError,
    SmsRequest,
)

ALWAYS_OPEN: dict[str, Any] = {"timezone": "Europe/London", "weekly": {}, "always_open": True}
MONDAY_10_LONDON = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)  # GMT in November


@dataclass
class Contact:
    """One contact the fake provider accepted."""

    sid: str
    channel: ChannelName
    to: str
    token: str
    at: dt.datetime
    body: str | None = None


@dataclass
class RecordingProvider:
    """Accepts calls and texts, remembers them, and fails on request.

    ``failures`` is a queue of exceptions raised by the next calls; a ProviderTimeoutError queued
    with ``placed_anyway`` records the contact before raising (the provider placed it but the
    answer was lost), like a real timeout after Twilio accepted the request.
    """

    name: str = "recording"
    latency: float = 0.0
    failures: list[ProviderError] = field(default_factory=list)
    placed_anyway: bool = False
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    contacts: list[Contact] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    lookups: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _accept(self, channel: ChannelName, to: str, token: str, body: str | None) -> Placed:
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            failure = self.failures.pop(0) if self.failures else None
            if failure is None or (
                isinstance(failure, ProviderTimeoutError) and self.placed_anyway
            ):
                sid = f"{'CA' if channel == 'voice' else 'SM'}{next(self._ids):032d}"
                self.contacts.append(Contact(sid, channel, to, token, self.clock(), body))
            if failure is not None:
                raise failure
            return Placed(sid=sid)

    def place_call(self, request: CallRequest) -> Placed:
        """Accept a call."""
        return self._accept("voice", request.to, request.token, None)

    def send_sms(self, request: SmsRequest) -> Placed:
        """Accept a text."""
        return self._accept("sms", request.to, request.token, request.body)

    def find_contact(
        self, *, channel: ChannelName, to: str, since: dt.datetime, sid: str | None = None
    ) -> ProviderContact | None:
        """The newest matching contact."""
        with self._lock:
            self.lookups += 1
            for found in reversed(self.contacts):
                if (sid and found.sid == sid) or (
                    found.channel == channel and found.to == to and found.at >= since
                ):
                    return ProviderContact(
                        sid=found.sid,
                        state=twilio_state(self.statuses.get(found.sid, "queued")),
                        created_at=found.at,
                    )
        return None

    def tokens(self) -> list[str]:
        """Tokens of every accepted contact, in order."""
        return [found.token for found in self.contacts]


CALL_FLOWS = Path(__file__).resolve().parents[2] / "call_flows"


@functools.cache
def shipped_script() -> LoadedScript:
    """The approved standard validation script shipped in ``call_flows/``."""
    return load_registry(CALL_FLOWS).get("standard-validation")


def script_composer() -> ScriptSmsComposer:
    """SMS openings from the shipped scripts, as a worker builds them at start-up."""
    return ScriptSmsComposer(
        ConversationContext(
            registry=load_registry(CALL_FLOWS),
            public_base_url="https://waitlist.example.test",
            organisation_name="Example Hospital",
            callback_number="0113 496 0000",
        )
    )


def make_script(session: Session, *, approved: bool = True) -> CallScript:
    """A stored call script row."""
    script = CallScript(
        flow_id="waiting-list-check",
        version=1,
        content_hash=secrets.token_hex(32),
        title="Waiting list check",
        language="en",
        content="id: waiting-list-check",
        approved_by="Dr Example" if approved else None,
        approved_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC) if approved else None,
    )
    session.add(script)
    session.flush()
    return script


def make_campaign(
    session: Session,
    *,
    cohort: Cohort,
    status: CampaignStatus = CampaignStatus.RUNNING,
    windows: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
    calls_per_second: float = 100.0,
    simulated: bool = True,
    real_script: bool = True,
) -> Campaign:
    """A campaign straight into ``status`` (planning is tested on its own)."""
    campaign = Campaign(
        name="Test campaign",
        cohort_id=cohort.id,
        call_script_id=(
            ensure_call_script(session, shipped_script()) if real_script else make_script(session)
        ).id,
        status=status,
        calling_windows=windows if windows is not None else ALWAYS_OPEN,
        attempt_policy=policy or {},
        calls_per_second=calls_per_second,
        simulated=simulated,
    )
    session.add(campaign)
    session.flush()
    return campaign


def make_worker(
    factory: sessionmaker[Session],
    provider: RecordingProvider,
    *,
    clock: Callable[[], dt.datetime] | None = None,
    worker_id: str = "test-worker",
    lease: dt.timedelta = dt.timedelta(seconds=120),
    rate: float = 1000.0,
    concurrency: int = 4,
) -> Worker:
    """A worker over ``factory`` with an in-memory budget."""
    config = DispatchConfig(
        worker_id=worker_id,
        account_key="test",
        account_calls_per_second=rate,
        concurrency=concurrency,
        lease=lease,
    )
    composer = script_composer()
    worker = Worker(
        session_factory=factory,
        provider=provider,
        budget=LocalBudget(),
        composer=composer,
        config=config,
        idle_sleep=0.01,
        notice_writer=composer,
    )
    if clock is not None:
        worker.clock = clock
    return worker
