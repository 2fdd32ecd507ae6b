"""Building a worker from the settings: the provider, the right rate budget for the database, one
account key (a composition root: it wires telephony, which takes plain data, to the database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns import scheduled
from app.campaigns.budget import Limit, LocalBudget, RateBudget, SharedBudget
from app.campaigns.dispatcher import DispatchConfig, SmsComposer
from app.campaigns.messages import ScriptSmsComposer
from app.campaigns.worker import Worker, default_worker_id
from app.config import Settings
from app.conversations.context import ConversationContext
from app.db import read_only
from app.flows import load_registry
from app.models import Patient
from app.telephony.factory import build_provider
from app.telephony.personas import Directory, Persona, SimulatedPerson, persona_for
from app.telephony.provider import Provider
from app.telephony.routing import ChannelRouter


def patient_directory(
    session_factory: sessionmaker[Session],
    *,
    seed: int = 0,
    cast: Mapping[int, Persona] | None = None,
) -> Directory:
    """Simulated people from the patient table: phone -> date of birth and a stable persona
    (``cast``: patient id -> the persona that patient plays instead, as the demo casts them).

    Looked up when a contact is placed (not cached), so patients imported later are reachable.
    """
    cast = cast or {}

    def lookup(phone: str) -> SimulatedPerson | None:
        with session_factory() as session:
            row = (
                read_only(session)
                .execute(
                    select(Patient.id, Patient.date_of_birth)
                    .where(or_(Patient.mobile_phone == phone, Patient.landline_phone == phone))
                    .order_by(Patient.id)
                    .limit(1)
                )
                .first()
            )
        if row is None:
            return None
        persona = cast.get(row.id) or persona_for(str(row.id), seed=seed)
        return SimulatedPerson(date_of_birth=row.date_of_birth, persona=persona)

    return lookup


def provider_for(
    settings: Settings,
    session_factory: sessionmaker[Session],
    *,
    cast: Mapping[int, Persona] | None = None,
) -> Provider:
    """The configured provider; the simulator's people are the patients in the database."""
    seed = settings.simulator_seed or 0
    directory = patient_directory(session_factory, seed=seed, cast=cast)
    return build_provider(settings, directory=directory)


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


def sms_accounts(settings: Settings) -> dict[str, Limit]:
    """The rate budget of each SMS provider beside the telephony one: one per Notify service.

    Notify allows 3,000 messages a minute per service (``WAITLIST_NOTIFY_MESSAGES_PER_MINUTE``);
    every worker on every host draws on the same bucket.
    """
    if settings.notify_api_key is None:
        return {}
    # The service id is the part of the key before its secret (NAME-SERVICE_ID-SECRET).
    service_id = settings.notify_api_key.get_secret_value()[-73:-37]
    return {"notify": (f"notify:{service_id}", settings.notify_messages_per_minute / 60)}


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


@runtime_checkable
class BoundedCalls(Protocol):
    """A provider whose calls live in this process and end within a known time (the simulator)."""

    @property
    def longest_call(self) -> dt.timedelta:
        """No call of this provider's lasts longer."""
        ...


# Past the longest call, a minute for the last webhook to be written.
_SETTLING = dt.timedelta(minutes=1)


def stale_call_after(provider: Provider) -> dt.timedelta:
    """How long a voice attempt may stay quiet before the worker asks the provider about it.

    Twilio's calls outlive our processes, so only a long silence means lost webhooks. A simulated
    call dies with the worker that played it (a SIGKILL), and can never be quiet longer than its
    longest call while alive, so past that it is settled at once (as ``lost``), not after hours.
    """
    if isinstance(provider, ChannelRouter):
        provider = provider.voice  # texts through Notify beside: the calls decide
    if isinstance(provider, BoundedCalls):
        return provider.longest_call + _SETTLING
    return scheduled.STALE_CALL


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
        sms_accounts=sms_accounts(settings),
        concurrency=concurrency,
        lease=dt.timedelta(seconds=lease_seconds),
    )
    composer = composer or sms_composer(settings)
    return Worker(
        session_factory=session_factory,
        provider=provider,
        budget=budget_for(settings, session_factory),
        composer=composer,
        config=config,
        stale_call_after=stale_call_after(provider),
        zone=settings.zone,
        # The notices' words come from the same approved scripts as the openings.
        notice_writer=composer if isinstance(composer, ScriptSmsComposer) else None,
    )
