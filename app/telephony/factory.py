"""The composition root for telephony: the configured provider, wired to the database."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import read_only
from app.models import Patient
from app.telephony.notify import NotifyProvider
from app.telephony.personas import Directory, SimulatedPerson, persona_for
from app.telephony.provider import Provider
from app.telephony.routing import ChannelRouter
from app.telephony.simulator import SimulatorProvider
from app.telephony.twilio import TwilioProvider


def patient_directory(session_factory: sessionmaker[Session], *, seed: int = 0) -> Directory:
    """Simulated people from the patient table: phone -> date of birth and a stable persona.

    Looked up when a contact is placed (not cached), so patients imported later are reachable.
    """

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
        return SimulatedPerson(
            date_of_birth=row.date_of_birth, persona=persona_for(str(row.id), seed=seed)
        )

    return lookup


def notify_provider(settings: Settings) -> NotifyProvider | None:
    """GOV.UK Notify for texts, if configured (``WAITLIST_NOTIFY_API_KEY``)."""
    if settings.notify_api_key is None:
        return None
    return NotifyProvider(
        api_key=settings.notify_api_key.get_secret_value(),
        templates=settings.notify_templates,
        base_url=settings.notify_base_url,
        sms_sender_id=settings.notify_sms_sender_id,
    )


def build_provider(settings: Settings, session_factory: sessionmaker[Session]) -> Provider:
    """The telephony provider, and beside it Notify for the campaigns that text through it."""
    telephony = build_telephony(settings, session_factory)
    notify = notify_provider(settings)
    if notify is None:
        return telephony
    return ChannelRouter(voice=telephony, sms={"notify": notify})


def build_telephony(settings: Settings, session_factory: sessionmaker[Session]) -> Provider:
    """The provider ``settings`` ask for: Twilio, or the simulator driving our own webhooks."""
    if settings.telephony_provider == "twilio":
        assert settings.twilio_account_sid and settings.twilio_from_number  # checked by Settings
        return TwilioProvider(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.webhook_auth_token,
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            public_base_url=settings.public_base_url,
        )
    return SimulatorProvider(
        public_base_url=settings.public_base_url,
        auth_token=settings.webhook_auth_token,
        directory=patient_directory(session_factory, seed=settings.simulator_seed or 0),
        duplicate_rate=settings.simulator_duplicate_rate,
        reorder_rate=settings.simulator_reorder_rate,
        step_delay_seconds=settings.simulator_speed,
        seed=settings.simulator_seed,
    )
