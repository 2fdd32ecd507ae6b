"""One provider for the dispatcher that sends each contact the way its campaign chose.

A normal trust set-up is calls through Twilio and texts through GOV.UK Notify (or NHS Notify).
The campaign's choice travels on ``SmsRequest.via``; ``telephony`` is the calls' own provider.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from app.telephony.provider import (
    CallRequest,
    ChannelName,
    Placed,
    Provider,
    ProviderContact,
    ProviderError,
    SmsRequest,
)

TELEPHONY = "telephony"


class ChannelRouter:
    """Calls through ``voice``; texts through the provider named by the request's ``via``."""

    def __init__(self, *, voice: Provider, sms: Mapping[str, Provider]) -> None:
        self.voice = voice
        self.sms = {TELEPHONY: voice, **sms}
        self.name = voice.name

    def place_call(self, request: CallRequest) -> Placed:
        """Ring through the telephony provider."""
        return self.voice.place_call(request)

    def send_sms(self, request: SmsRequest) -> Placed:
        """Text through the campaign's SMS provider; one not configured is refused for good."""
        provider = self.sms.get(request.via)
        if provider is None:
            raise ProviderError(
                f"SMS provider {request.via!r} is not configured",
                permanent=True,
                code="sms-provider",
            )
        return provider.send_sms(request)

    def find_contact(
        self, *, channel: ChannelName, to: str, since: dt.datetime, sid: str | None = None
    ) -> ProviderContact | None:
        """Ask the telephony provider about calls; for a text, each SMS provider in turn."""
        if channel == "voice":
            return self.voice.find_contact(channel=channel, to=to, since=since, sid=sid)
        for provider in self.sms.values():
            found = provider.find_contact(channel=channel, to=to, since=since, sid=sid)
            if found is not None:
                return found
        return None
