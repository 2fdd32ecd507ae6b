"""Building a worker from the settings: the right rate budget for the database, one account key."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from app.campaigns.budget import LocalBudget, RateBudget, SharedBudget
from app.campaigns.dispatcher import DispatchConfig, SmsComposer
from app.campaigns.messages import ScriptSmsComposer
from app.campaigns.worker import Worker, default_worker_id
from app.config import Settings
from app.conversations.context import ConversationContext
from app.flows import load_registry
from app.telephony.provider import Provider


def budget_for(settings: Settings, session_factory: sessionmaker[Session]) -> RateBudget:
    """Shared rows on PostgreSQL (many workers); memory on SQLite (one worker)."""
    if settings.database_url.startswith("postgresql"):
        return SharedBudget(session_factory)
    return LocalBudget()


def account_key(settings: Settings) -> str:
    """The rate budget's key: one per Twilio account, however many workers or hosts."""
    if settings.telephony_provider == "twilio":
        return f"twilio:{settings.twilio_account_sid}"
    return "simulator"


def sms_composer(settings: Settings) -> ScriptSmsComposer:
    """Openings from the scripts in ``call_flows/`` (parsed once, at start-up)."""
    return ScriptSmsComposer(
        ConversationContext(
            registry=load_registry(settings.flows_path),
            public_base_url=settings.public_base_url,
            organisation_name=settings.organisation_name,
            callback_number=settings.callback_number,
        )
    )


def build_worker(
    settings: Settings,
    *,
    session_factory: sessionmaker[Session],
    provider: Provider,
    composer: SmsComposer | None = None,
    concurrency: int = 8,
    lease_seconds: float = 120,
) -> Worker:
    """A worker for this deployment."""
    config = DispatchConfig(
        worker_id=default_worker_id(),
        account_key=account_key(settings),
        account_calls_per_second=settings.calls_per_second,
        concurrency=concurrency,
        lease=dt.timedelta(seconds=lease_seconds),
    )
    return Worker(
        session_factory=session_factory,
        provider=provider,
        budget=budget_for(settings, session_factory),
        composer=composer or sms_composer(settings),
        config=config,
    )
