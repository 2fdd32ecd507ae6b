"""Turning a ``Reply`` into what the patient receives: a voice prompt (plain data, which
``app.telephony.twiml`` turns into TwiML) for a call, text for an SMS."""

from __future__ import annotations

from app.flows.conversation import Question, Reply
from app.flows.loading import LoadedScript
from app.flows.schema import AskStep
from app.flows.templates import phrase
from app.telephony.twiml import GatherSpec, VoicePrompt


def speech_hints(reply: Reply, question: Question, script: LoadedScript) -> str | None:
    """The words the question expects, as Twilio speech hints (they improve recognition)."""
    step = script.flow.steps.get(question.step)
    if not isinstance(step, AskStep):
        return None
    if reply.state.get("pending"):
        words = [*phrase(script.flow, "yes_words"), *phrase(script.flow, "no_words")]
    else:
        words = [word for option in step.options for word in option.words]
    return ", ".join(dict.fromkeys(word.replace(",", " ") for word in words))


def voice_prompt(reply: Reply, script: LoadedScript, *, action_url: str) -> VoicePrompt:
    """What the call hears: the messages inside the question when one waits (its answer is
    posted to ``action_url``), else said before hanging up; in the script's language and voice."""
    question = reply.question
    gather = (
        None
        if question is None
        else GatherSpec(
            action_url=action_url,
            num_digits=question.num_digits,
            hints=speech_hints(reply, question, script),
        )
    )
    return VoicePrompt(
        said=tuple(reply.messages), language=script.language, voice=script.voice, gather=gather
    )


def render_sms(reply: Reply, script: LoadedScript) -> str:
    """The text message for a reply: its messages in order, the question's reply instructions last.

    The reply instructions are part of the approved script (each question's ``sms`` text), so what
    is sent is exactly what was approved.
    """
    del script  # the script's SMS texts were already chosen by the engine
    return "\n\n".join(message for message in reply.messages if message)
