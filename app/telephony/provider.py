"""The small protocol every telephony provider implements (Twilio, the simulator, tests)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Protocol

from app.telephony.events import ContactState

ChannelName = Literal["voice", "sms"]


class ProviderError(Exception):
    """A provider refused or failed a request.

    ``permanent`` says whether retrying can help: a bad or unsubscribed number is permanent;
    a rate limit, a 5xx or a timeout is not. ``code`` is the provider's error code, if any.
    """

    def __init__(self, message: str, *, permanent: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class ProviderTimeoutError(ProviderError):
    """No answer from the provider: the contact may or may not have been placed (in doubt)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=False, code="timeout")


@dataclass(frozen=True)
class CallRequest:
    """Ring ``to`` (E.164); the provider builds callback URLs from ``token``."""

    to: str
    token: str
    ring_timeout_seconds: int = 25
    time_limit_seconds: int = 600


@dataclass(frozen=True)
class SmsRequest:
    """Send ``body`` to ``to`` (E.164); status callbacks carry ``token``.

    ``kind`` says what the text is (``opening``, ``reply``, ``courtesy``...): a provider that
    sends through templates (GOV.UK Notify) picks the template by it. ``via`` is the SMS provider
    the campaign chose (``telephony`` or ``notify``); a single provider ignores both. ``turn``
    tells a reply's receipt from the opening's.
    """

    to: str
    token: str
    body: str
    kind: str = "opening"
    via: str = "telephony"
    turn: int | None = None


@dataclass(frozen=True)
class Placed:
    """The provider accepted the contact and gave it this id (Twilio's CallSid/MessageSid)."""

    sid: str


@dataclass(frozen=True)
class ProviderContact:
    """What the provider knows of a contact, for reconciling an attempt left in doubt.

    ``state`` is in our words (``app.telephony.events.ContactState``); None for a word the
    provider uses that we do not know, which is treated as still under way.
    """

    sid: str
    state: ContactState | None
    created_at: dt.datetime | None = None


class Provider(Protocol):
    """Places calls and sends texts; results arrive later as signed webhooks."""

    name: str

    def place_call(self, request: CallRequest) -> Placed:
        """Start an outbound call; raise ProviderError when it cannot be placed."""
        ...

    def send_sms(self, request: SmsRequest) -> Placed:
        """Send one text message; raise ProviderError when it cannot be sent."""
        ...

    def find_contact(
        self, *, channel: ChannelName, to: str, since: dt.datetime, sid: str | None = None
    ) -> ProviderContact | None:
        """The contact placed to ``to`` since ``since`` (or with ``sid``), or None if none was."""
        ...
