"""Running a script in the terminal: a transcript from a list of answers, with no telephony."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from app.flows.conversation import Channel, Heard, Reply
from app.flows.engine import continue_conversation, start_conversation
from app.flows.loading import LoadedScript
from app.flows.templates import PatientFacts

SAMPLE_DATE_OF_BIRTH = dt.date(1956, 3, 14)
_SPEECH = re.compile(r"^say(?:@(?P<confidence>[0-9.]+))?:(?P<text>.*)$", re.DOTALL)
CLEAR_SPEECH_CONFIDENCE = 0.95


def sample_facts(*, organisation_name: str, callback_number: str) -> PatientFacts:
    """A synthetic patient for simulation (date of birth 14 March 1956: key 14031956)."""
    return PatientFacts(
        given_name="Alex",
        date_of_birth=SAMPLE_DATE_OF_BIRTH,
        specialty_name="Trauma and Orthopaedics",
        organisation_name=organisation_name,
        callback_number=callback_number,
    )


def parse_answer(text: str, *, channel: Channel) -> Heard:
    """One answer in the simulate notation.

    ``-`` or nothing is no input; ``say:words`` is speech without a confidence and
    ``say@0.3:words`` speech heard with confidence 0.3. Otherwise, on a call, digits are keyed
    and words are speech heard clearly; by SMS, everything is the text of a reply.
    """
    value = text.strip()
    if value in ("", "-"):
        return Heard("none")
    if channel == "sms":
        return Heard("sms", value)
    speech = _SPEECH.match(value)
    if speech:
        confidence = speech.group("confidence")
        return Heard(
            "speech", speech.group("text").strip(), float(confidence) if confidence else None
        )
    if value.isdigit() or value in ("*", "#"):
        return Heard("dtmf", value)
    return Heard("speech", value, CLEAR_SPEECH_CONFIDENCE)


@dataclass
class Transcript:
    """What was said and heard, in order, and how the conversation ended (if it did)."""

    flow_id: str
    version: int
    approved: bool
    channel: Channel
    lines: list[tuple[str, str]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    outcome: str | None = None
    recorded: dict[str, Any] = field(default_factory=dict)

    def add(self, reply: Reply) -> None:
        """Append what the service said and the answers it recorded."""
        for message in reply.messages:
            self.lines.append(("service", message))
        for answer in reply.answers:
            self.answers.append(
                {
                    "step": answer.step,
                    "turn": answer.turn,
                    "input": answer.input_kind,
                    "interpretation": answer.interpretation,
                    "recorded": answer.recorded,
                }
            )
        self.outcome = reply.outcome
        self.recorded = dict(reply.state["recorded"])


def simulate(
    script: LoadedScript,
    facts: PatientFacts,
    *,
    channel: Channel,
    answers: Iterable[Heard] | Callable[[Reply], Heard | None],
) -> Transcript:
    """Run a conversation to its end, or until the answers run out."""
    transcript = Transcript(script.id, script.version, script.approved, channel)
    reply = start_conversation(script, facts, channel=channel)
    transcript.add(reply)
    supply = answers if callable(answers) else _from_list(list(answers))
    while reply.question is not None:
        heard = supply(reply)
        if heard is None:
            break
        transcript.lines.append(("patient", _describe(heard)))
        reply = continue_conversation(script, reply.state, heard, facts, channel=channel)
        transcript.add(reply)
    return transcript


def _from_list(answers: list[Heard]) -> Callable[[Reply], Heard | None]:
    remaining = iter(answers)
    return lambda _reply: next(remaining, None)


def _describe(heard: Heard) -> str:
    if heard.kind == "none":
        return "(no input)"
    if heard.kind == "dtmf":
        return f"[keys {heard.text}]"
    if heard.kind == "speech":
        confidence = "no confidence" if heard.confidence is None else f"{heard.confidence:.2f}"
        return f'"{heard.text}" (speech, {confidence})'
    return f'"{heard.text}" (text)'
