"""The configured provider, from the settings alone (plain data in, a provider out).

The simulator's people come from whoever builds it (``app.campaigns.runtime.provider_for`` reads
them from the patient table): telephony knows nothing of the database.
"""

from __future__ import annotations

from app.config import Settings
from app.telephony.notify import NotifyProvider
from app.telephony.personas import Directory
from app.telephony.provider import Provider
from app.telephony.routing import ChannelRouter
from app.telephony.simulator import SimulatorProvider
from app.telephony.twilio import TwilioProvider


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


def build_provider(settings: Settings, *, directory: Directory) -> Provider:
    """The telephony provider, and beside it Notify for the campaigns that text through it."""
    telephony = build_telephony(settings, directory=directory)
    notify = notify_provider(settings)
    if notify is None:
        return telephony
    return ChannelRouter(voice=telephony, sms={"notify": notify})


def build_telephony(settings: Settings, *, directory: Directory) -> Provider:
    """The provider ``settings`` ask for: Twilio, or the simulator driving our own webhooks,
    whose people (who answers, and their date of birth) ``directory`` gives."""
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
        directory=directory,
        duplicate_rate=settings.simulator_duplicate_rate,
        reorder_rate=settings.simulator_reorder_rate,
        step_delay_seconds=settings.simulator_speed,
        seed=settings.simulator_seed,
    )
