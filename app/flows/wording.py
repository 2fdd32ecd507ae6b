"""Which words a step says on each channel: its SMS wording where given, the engine's phrases
where the script relies on them (the default identity prompts)."""

from __future__ import annotations

from app.flows.schema import AskStep, FlowFile, Step, VerifyStep
from app.flows.templates import phrase


def wording(flow: FlowFile, step: Step, channel: str) -> str | None:
    """The template a step says on ``channel``, or ``None`` when it says nothing.

    Raises ``KeyError`` when it relies on a phrase the script does not give (a non-English
    script without its phrases, which the lint reports).
    """
    if channel == "sms" and step.sms:
        return step.sms
    if isinstance(step, VerifyStep):
        if step.say:
            return step.say
        base = "dob_prompt" if step.verify == "date_of_birth" else "yob_prompt"
        return str(phrase(flow, base + ("_sms" if channel == "sms" else "")))
    if isinstance(step, AskStep):
        return step.ask
    return step.say


def step_texts(flow: FlowFile, step: Step, channel: str) -> list[str]:
    """The templates a step says on ``channel``, none when a phrase it relies on is missing."""
    try:
        text = wording(flow, step, channel)
    except KeyError:
        return []
    return [text] if text else []
