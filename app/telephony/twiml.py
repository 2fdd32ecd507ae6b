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
    """A question: where Twilio posts the answer, how many keys end it, and the words to listen
    for (speech hints improve recognition)."""

    action_url: str
    num_digits: int | None = None
    hints: str | None = None

    def __post_init__(self) -> None:
        if not self.action_url.startswith(("https://", "http://")):
            raise ValueError("action_url must be absolute (Twilio posts the answer to it)")


@dataclass(frozen=True)
class VoicePrompt:
    """What a call hears next, as plain data: sentences in a voice and language, spoken inside
    the question's Gather when one waits, else followed by hanging up."""

    said: Sequence[str]
    language: str = LANGUAGE
    voice: str | None = VOICE
    gather: GatherSpec | None = None


_EMPTY_RESPONSE = str(VoiceResponse().to_xml())


def empty_response() -> str:
    """``<Response/>``: the answer to a status callback or an event we ignore (built once)."""
    return _EMPTY_RESPONSE


def voice_twiml(prompt: VoicePrompt) -> str:
    """The prompt as TwiML. Only ``<Say>`` may nest in ``<Gather>``; without a question the
    call is hung up."""
    response = VoiceResponse()
    say: dict[str, str] = {"language": prompt.language}
    if prompt.voice:
        say["voice"] = prompt.voice
    gather = prompt.gather
    if gather is None:
        for text in prompt.said:
            response.say(text, **say)
        response.hangup()
        return str(response.to_xml())
    question = response.gather(
        input="dtmf speech",
        action=gather.action_url,
        method="POST",
        num_digits=gather.num_digits,
        language=prompt.language,
        speech_timeout="auto",
        action_on_empty_result=True,
        **({"hints": gather.hints} if gather.hints else {}),
    )
    for text in prompt.said:
        question.say(text, **say)
    return str(response.to_xml())


def voice_response(said: Sequence[str]) -> str:
    """Say ``said`` in the service's own voice and hang up (who called, and the number)."""
    return voice_twiml(VoicePrompt(said))


def message_response(texts: Sequence[str]) -> str:
    """A reply to an inbound text: one ``<Message>`` per text."""
    response = MessagingResponse()
    for text in texts:
        if text:
            response.message(text)
    return str(response.to_xml())
