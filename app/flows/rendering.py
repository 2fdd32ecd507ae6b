"""Turning a ``Reply`` into what the patient receives: TwiML for a call, text for an SMS."""

from __future__ import annotations

from twilio.twiml.voice_response import Gather, VoiceResponse

from app.flows.conversation import Reply
from app.flows.loading import LoadedScript


def render_voice(reply: Reply, script: LoadedScript, *, action_url: str) -> str:
    """TwiML: the messages inside a ``<Gather>`` when a question waits, else said and hung up."""
    if not action_url.startswith(("https://", "http://")):
        raise ValueError("action_url must be absolute (Twilio posts the answer to it)")
    response = VoiceResponse()
    say_options: dict[str, str] = {"language": script.language}
    if script.voice:
        say_options["voice"] = script.voice
    if reply.question is None:
        for message in reply.messages:
            response.say(message, **say_options)
        response.hangup()
        return str(response)
    gather = Gather(
        input="dtmf speech",
        num_digits=reply.question.num_digits,
        language=script.language,
        action_on_empty_result=True,
        action=action_url,
        method="POST",
        speech_timeout="auto",
    )
    for message in reply.messages:
        gather.say(message, **say_options)
    response.append(gather)
    return str(response)


def render_sms(reply: Reply, script: LoadedScript) -> str:
    """The text message for a reply: its messages in order, the question's reply instructions last.

    The reply instructions are part of the approved script (each question's ``sms`` text), so what
    is sent is exactly what was approved.
    """
    del script  # the script's SMS texts were already chosen by the engine
    return "\n\n".join(message for message in reply.messages if message)
