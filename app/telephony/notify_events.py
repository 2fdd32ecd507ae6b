"""GOV.UK Notify's words, read once into our typed events.

Notify's delivery-status and received-text callbacks are JSON documents; their fields and status
words (``permanent-failure``, ``source_number``...) are read here and nowhere else, so
``conversations/`` receives the same ``DeliveryReceipt`` and ``InboundText`` a Twilio webhook
gives it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.telephony.events import ContactState, DeliveryReceipt, InboundText

# Notify's words for a text message (callbacks and GET /v2/notifications/{id} alike).
NOTIFY_STATES: dict[str, ContactState] = {
    "created": ContactState.PLACED,
    "sending": ContactState.PLACED,
    "pending": ContactState.PLACED,
    "sent": ContactState.PLACED,  # sent abroad: the networks say no more
    "delivered": ContactState.PLACED,
    "permanent-failure": ContactState.FAILED,  # not a working number
    "temporary-failure": ContactState.FAILED,  # phone off or full, for 72 hours
    "technical-failure": ContactState.FAILED,  # Notify could not hand it to a network
}
# Our error codes (16 characters at most) for the failures, so the attempt says which it was.
NOTIFY_ERROR_CODES: dict[str, str] = {
    "permanent-failure": "notify-permanent",
    "temporary-failure": "notify-temporary",
    "technical-failure": "notify-technical",
}
# The reference we give each text is the attempt's token, then, for a reply, the turn after a dot
# (tokens are URL-safe base64, which has no dot).
REFERENCE_SEPARATOR = "."


def notify_state(word: str | None) -> ContactState | None:
    """Notify's status word as a state; None for a word we do not know (it changes nothing)."""
    return NOTIFY_STATES.get(word or "")


def reference_for(token: str, *, turn: int | None = None) -> str:
    """The ``reference`` a text carries: how its delivery receipt finds the attempt again."""
    return token if turn is None else f"{token}{REFERENCE_SEPARATOR}{turn}"


def token_of(reference: str | None) -> str:
    """The attempt token inside a reference (empty if there is none)."""
    return (reference or "").split(REFERENCE_SEPARATOR, 1)[0]


def e164(number: str) -> str:
    """A UK number as Notify writes it (``447700900123``, ``07700 900123``) in E.164."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if number.strip().startswith("+"):
        return f"+{digits}"
    if digits.startswith("0") and not digits.startswith("00"):
        return f"+44{digits[1:]}"
    if digits.startswith("00"):
        return f"+{digits[2:]}"
    return f"+{digits}" if digits else ""


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    return value if isinstance(value, str) else ""


def from_notify_status(payload: Mapping[str, Any]) -> tuple[str, DeliveryReceipt]:
    """A delivery-status callback: the attempt token from its reference, and the receipt."""
    word = _text(payload, "status")
    return token_of(_text(payload, "reference")), DeliveryReceipt(
        message_sid=_text(payload, "id"),
        state=notify_state(word),
        status_word=word,
        error_code=NOTIFY_ERROR_CODES.get(word),
    )


def from_notify_inbound(payload: Mapping[str, Any]) -> InboundText:
    """A received-text callback (Notify reads no opt-out words itself: the service does)."""
    return InboundText(
        message_sid=_text(payload, "id"),
        sender=e164(_text(payload, "source_number")),
        body=_text(payload, "message"),
    )
