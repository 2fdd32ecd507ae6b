"""TwiML documents built with the ``twilio`` library (so they are always well formed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

VOICE = "Polly.Amy-Neural"
LANGUAGE = "en-GB"


@dataclass(frozen=True)
class GatherSpec:
    """A question: where Twilio posts the answer, and how many keys it takes."""

    action_url: str
    num_digits: int | None = 1
    language: str = LANGUAGE
    timeout_seconds: int = 6


_EMPTY_RESPONSE = str(VoiceResponse().to_xml())


def empty_response() -> str:
    """``<Response/>``: the answer to a status callback or an event we ignore (built once)."""
    return _EMPTY_RESPONSE


def voice_response(
    said: Sequence[str],
    *,
    gather: GatherSpec | None = None,
    voice: str = VOICE,
    language: str = LANGUAGE,
) -> str:
    """Say ``said``; with ``gather`` the last sentences are spoken inside the question's Gather.

    Only ``<Say>`` may nest in ``<Gather>``; without a question the call is hung up.
    """
    response = VoiceResponse()
    if gather is None:
        for text in said:
            response.say(text, voice=voice, language=language)
        response.hangup()
        return str(response.to_xml())
    prompt = response.gather(
        input="dtmf speech",
        action=gather.action_url,
        method="POST",
        num_digits=gather.num_digits,
        language=gather.language,
        timeout=gather.timeout_seconds,
        speech_timeout="auto",
        action_on_empty_result=True,
    )
    for text in said:
        prompt.say(text, voice=voice, language=language)
    return str(response.to_xml())


def message_response(texts: Sequence[str]) -> str:
    """A reply to an inbound text: one ``<Message>`` per text."""
    response = MessagingResponse()
    for text in texts:
        if text:
            response.message(text)
    return str(response.to_xml())
