"""What a provider tells us, as plain typed events: the only shape ``conversations/`` receives.

Twilio's callback forms (``CallStatus=no-answer``, ``Digits``, ``OptOutType``...) are read here,
once, by the ``from_twilio_*`` functions; the rest of the service never sees a Twilio word. A
second provider (GOV.UK Notify, say) adds its own readers producing the same events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class ContactState(StrEnum):
    """What became of a call or a text, in the provider's account, in our words."""

    PLACED = "placed"  # accepted: queued, ringing, sent or delivered
    IN_PROGRESS = "in_progress"  # a call was answered and is going on
    COMPLETED = "completed"  # a call was answered and has ended
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"  # could not be placed or delivered
    CANCELED = "canceled"  # withdrawn at the provider before anyone answered


# Twilio's words for calls and messages (callbacks and the REST API alike).
TWILIO_STATES: dict[str, ContactState] = {
    "queued": ContactState.PLACED,
    "initiated": ContactState.PLACED,
    "ringing": ContactState.PLACED,
    "accepted": ContactState.PLACED,
    "scheduled": ContactState.PLACED,
    "sending": ContactState.PLACED,
    "sent": ContactState.PLACED,
    "delivered": ContactState.PLACED,
    "in-progress": ContactState.IN_PROGRESS,
    "completed": ContactState.COMPLETED,
    "busy": ContactState.BUSY,
    "no-answer": ContactState.NO_ANSWER,
    "failed": ContactState.FAILED,
    "undelivered": ContactState.FAILED,
    "canceled": ContactState.CANCELED,
}
MACHINE_PREFIXES = ("machine", "fax")

# The call-progress events we ask Twilio for (``StatusCallbackEvent``), and the status words each
# makes Twilio send. Only ``completed`` (every final state) changes what we do: a placed call is
# known from the REST answer or, in doubt, by asking Twilio; an answered one from the voice
# webhook, which Twilio fetches at answer. "initiated", "ringing" and "answered" would be three
# more webhooks a call, a third of a national day's, that change nothing (Twilio's own default
# is ``completed`` alone).
CALL_EVENTS: tuple[str, ...] = ("completed",)
ALL_CALL_EVENTS: tuple[str, ...] = ("initiated", "ringing", "answered", "completed")
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
_EVENT_STATUSES: dict[str, frozenset[str]] = {
    "initiated": frozenset({"initiated"}),
    "ringing": frozenset({"ringing"}),
    "answered": frozenset({"in-progress"}),
    "completed": FINAL_CALL_STATUSES,
}


def statuses_for(events: tuple[str, ...]) -> frozenset[str]:
    """The ``CallStatus`` words Twilio posts to the status callback for these events."""
    unknown = set(events) - set(_EVENT_STATUSES)
    if unknown:
        raise ValueError(f"unknown call-progress events: {sorted(unknown)}")
    return frozenset().union(*(_EVENT_STATUSES[event] for event in events))


def twilio_state(word: str | None) -> ContactState | None:
    """Twilio's status word as a state; None for a word we do not know (it changes nothing)."""
    return TWILIO_STATES.get(word or "")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@dataclass(frozen=True)
class CallProgress:
    """A call-progress callback: the new state, and what the provider measured."""

    call_sid: str
    state: ContactState | None
    sequence: str
    duration_seconds: int | None = None
    error_code: str | None = None


@dataclass(frozen=True)
class CallAnswered:
    """The call was answered and the provider asks what to say."""

    call_sid: str


@dataclass(frozen=True)
class MachineDetection:
    """Who answered, by asynchronous answering-machine detection."""

    call_sid: str
    answered_by: str

    @property
    def is_machine(self) -> bool:
        """A machine (or fax) answered: such a call gets no clinical detail."""
        return is_machine(self.answered_by)


@dataclass(frozen=True)
class GatherInput:
    """What the caller gave to one question: keys, speech (perhaps unrated), or nothing."""

    call_sid: str
    digits: str | None = None
    speech: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class DeliveryReceipt:
    """A text's delivery status."""

    message_sid: str
    state: ContactState | None
    status_word: str
    error_code: str | None = None


@dataclass(frozen=True)
class InboundText:
    """A text from anyone. ``opt_out`` is the provider's own reading (Twilio's Advanced
    Opt-Out), when it made one; the service reads the body itself as well."""

    message_sid: str
    sender: str
    body: str
    opt_out: Literal["stop", "start"] | None = None


def is_machine(answered_by: str | None) -> bool:
    """Whether AMD said a machine (or fax) answered."""
    return bool(answered_by) and str(answered_by).startswith(MACHINE_PREFIXES)


def from_twilio_call_status(form: Mapping[str, str]) -> CallProgress:
    """A Twilio status callback."""
    state = twilio_state(form.get("CallStatus"))
    error = None
    if state not in (None, ContactState.PLACED, ContactState.IN_PROGRESS, ContactState.COMPLETED):
        error = form.get("SipResponseCode") or form.get("ErrorCode") or None
    return CallProgress(
        call_sid=form.get("CallSid", ""),
        state=state,
        sequence=form.get("SequenceNumber") or form.get("CallStatus", ""),
        duration_seconds=_int(form.get("CallDuration")),
        error_code=error,
    )


def from_twilio_answered(form: Mapping[str, str]) -> CallAnswered:
    """Twilio's request for the call's first TwiML."""
    return CallAnswered(call_sid=form.get("CallSid", ""))


def from_twilio_amd(form: Mapping[str, str]) -> MachineDetection:
    """Twilio's asynchronous AMD callback."""
    return MachineDetection(
        call_sid=form.get("CallSid", ""), answered_by=form.get("AnsweredBy", "unknown")[:32]
    )


def from_twilio_gather(form: Mapping[str, str]) -> GatherInput:
    """Twilio's ``<Gather>`` action request."""
    digits = form.get("Digits") or None
    speech = (form.get("SpeechResult") or "").strip() or None
    try:
        confidence: float | None = float(form["Confidence"])
    except (KeyError, ValueError):
        confidence = None
    return GatherInput(
        call_sid=form.get("CallSid", ""), digits=digits, speech=speech, confidence=confidence
    )


def from_twilio_sms_status(form: Mapping[str, str]) -> DeliveryReceipt:
    """Twilio's message status callback."""
    word = form.get("MessageStatus", "")
    return DeliveryReceipt(
        message_sid=form.get("MessageSid", ""),
        state=twilio_state(word),
        status_word=word,
        error_code=form.get("ErrorCode") or None,
    )


def from_twilio_inbound(form: Mapping[str, str]) -> InboundText:
    """Twilio's incoming message webhook."""
    opt_out_type = form.get("OptOutType", "").upper()
    opt_out: Literal["stop", "start"] | None = (
        "stop" if opt_out_type == "STOP" else "start" if opt_out_type == "START" else None
    )
    return InboundText(
        message_sid=form.get("MessageSid", ""),
        sender=form.get("From", ""),
        body=form.get("Body", ""),
        opt_out=opt_out,
    )
