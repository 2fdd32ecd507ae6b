"""The step engine: (script, state, input) -> what to say next, new state, answers, outcome.

Pure and deterministic: no I/O, no clock, no randomness. The state is a small JSON-serialisable
dict that the caller stores between turns (on the contact attempt) and passes back unchanged.
Patient variables are added to the template context only once a ``verify`` step has succeeded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from app.errors import ConflictError, InvalidInputError
from app.flows import dates
from app.flows.conversation import Channel, Heard, Question, RecordedAnswer, Reply
from app.flows.loading import FlowError, LoadedScript, Problem
from app.flows.schema import (
    IDENTITY_TRIGGERS,
    TRIGGERS,
    AskStep,
    EndStep,
    FlowFile,
    Option,
    SayStep,
    Trigger,
    VerifyStep,
)
from app.flows.templates import PatientFacts, context, phrase, render
from app.flows.understanding import (
    Understood,
    clauses,
    mentioned,
    understand_digits,
    understand_text,
)
from app.flows.wording import wording

STATE_SPEC = 1


@dataclass
class _Turn:
    """What one call of the engine accumulates before it becomes a ``Reply``."""

    script: LoadedScript
    facts: PatientFacts
    channel: Channel
    state: dict[str, Any]
    messages: list[str] = field(default_factory=list)
    answers: list[RecordedAnswer] = field(default_factory=list)
    # On a shared phone, the opening names who the call is for, once, before the first question.
    announce: bool = False

    @property
    def flow(self) -> FlowFile:
        return self.script.flow

    def say(self, source: str, **extra: str) -> None:
        values = context(self.flow, self.facts, verified=bool(self.state["verified"]))
        self.messages.append(render(source, {**values, **extra}))

    def reply(self, question: Question | None) -> Reply:
        return Reply(
            messages=self.messages,
            question=question,
            state=self.state,
            answers=self.answers,
            outcome=self.state["outcome"],
        )


def _check_channel(script: LoadedScript, channel: Channel) -> None:
    if channel not in script.channels:
        raise InvalidInputError(
            f"Call script {script.id!r} is not written for {channel}; "
            f"it supports {', '.join(sorted(script.channels))}"
        )


def start_conversation(script: LoadedScript, facts: PatientFacts, *, channel: Channel) -> Reply:
    """Begin a conversation: the opening words and the first question."""
    _check_channel(script, channel)
    state: dict[str, Any] = {
        "spec": STATE_SPEC,
        "flow": script.id,
        "version": script.version,
        "hash": script.content_hash,
        "channel": channel,
        "step": None,
        "turn": 0,
        "unusable": 0,
        "wrong": 0,
        "pending": None,
        "visits": {},
        "verified": False,
        "recorded": {},
        "outcome": None,
    }
    turn = _Turn(script, facts, channel, state, announce=facts.called_for is not None)
    return _enter(turn, script.flow.start)


def continue_conversation(
    script: LoadedScript,
    state: dict[str, Any],
    heard: Heard,
    facts: PatientFacts,
    *,
    channel: Channel,
) -> Reply:
    """Take one input from the patient and return what happens next."""
    _check_channel(script, channel)
    if (state.get("flow"), state.get("version"), state.get("hash")) != (
        script.id,
        script.version,
        script.content_hash,
    ):
        raise ConflictError(
            f"This conversation was started with another version of call script {script.id!r}; "
            "it cannot be continued with the current file"
        )
    if state.get("step") is None:
        raise ConflictError("This conversation has already ended")
    new_state = {
        **state,
        "turn": int(state["turn"]) + 1,
        "visits": dict(state["visits"]),
        "recorded": dict(state["recorded"]),
    }
    turn = _Turn(script, facts, channel, new_state)
    _note_who_answered(turn, heard)
    step = script.flow.steps[state["step"]]
    if isinstance(step, AskStep):
        return _answer_choice(turn, state["step"], step, heard)
    if isinstance(step, VerifyStep):
        return _answer_verify(turn, state["step"], step, heard)
    raise ConflictError(f"Step {state['step']!r} does not take an answer")


def _note_who_answered(turn: _Turn, heard: Heard) -> None:
    """Record who is answering when they say it ("this is his wife"), for the clinician."""
    answered_by = turn.flow.understanding.answered_by
    if answered_by is None or heard.kind not in ("speech", "sms"):
        return
    english = _english(turn.flow)
    parts = clauses(heard.text or "", english=english)
    for relationship in answered_by.relationships:
        said = [f"{cue} {relationship}" for cue in answered_by.cues]
        if mentioned(parts, said, english=english):
            turn.state["recorded"]["answered_by"] = relationship
            return


def voicemail_message(script: LoadedScript, facts: PatientFacts) -> str:
    """What to leave on an answering machine: who called and the number to call back, no more."""
    values = context(script.flow, facts, verified=False)
    return render(phrase(script.flow, "voicemail"), values)


def question_text(flow: FlowFile, name: str, channel: Channel) -> str:
    """The template of the question a step asks, on this channel."""
    step = flow.steps[name]
    text = wording(flow, step, channel) if isinstance(step, (AskStep, VerifyStep)) else None
    if text is None:
        raise ValueError(f"step {name!r} asks no question")
    return text


def _question(flow: FlowFile, name: str) -> Question:
    step = flow.steps[name]
    if isinstance(step, VerifyStep):
        digits = 8 if step.verify == "date_of_birth" else 4
        return Question(step=name, input=step.verify, num_digits=digits)
    return Question(step=name, input="choice", num_digits=1)


def _enter(turn: _Turn, target: str) -> Reply:
    """Walk from ``target`` through say steps to the next question or the end."""
    flow = turn.flow
    state = turn.state
    hops = 0
    limit = len(flow.steps) * 11 + 1
    while True:
        hops += 1
        if hops > limit:
            raise FlowError(
                [
                    Problem(
                        str(turn.script.path),
                        target,
                        "loops without asking anything",
                        "run `waitlist flow lint` and bound the loop with max_visits",
                    )
                ]
            )
        step = flow.steps[target]
        visits = int(state["visits"].get(target, 0)) + 1
        state["visits"][target] = visits
        if step.max_visits is not None and step.on_max_visits and visits > step.max_visits:
            target = step.on_max_visits
            continue
        if isinstance(step, SayStep):
            turn.say(wording(flow, step, turn.channel) or "")
            target = step.next
            continue
        if turn.announce and turn.facts.called_for:
            turn.say(phrase(flow, "shared_phone"), called_for=turn.facts.called_for)
            turn.announce = False
        if isinstance(step, EndStep):
            closing = wording(flow, step, turn.channel)
            if closing:
                turn.say(closing)
            state.update(step=None, outcome=step.end, pending=None)
            return turn.reply(None)
        state.update(step=target, unusable=0, wrong=0, pending=None)
        turn.say(question_text(flow, target, turn.channel))
        return turn.reply(_question(flow, target))


def _prompt(turn: _Turn, name: str) -> str:
    values = context(turn.flow, turn.facts, verified=bool(turn.state["verified"]))
    return render(question_text(turn.flow, name, turn.channel), values)


def _record(
    turn: _Turn,
    name: str,
    heard: Heard,
    interpretation: str,
    *,
    recorded: dict[str, Any] | None = None,
    redact: bool = False,
) -> None:
    turn.answers.append(
        RecordedAnswer(
            step=name,
            turn=int(turn.state["turn"]),
            prompt=_prompt(turn, name),
            input_kind=heard.kind,
            raw_input=None if redact or heard.kind == "none" else heard.text,
            confidence=heard.confidence,
            interpretation=interpretation,
            recorded=dict(recorded or {}),
        )
    )


def _ask_again(turn: _Turn, name: str, fallback: str, *, before: str | None) -> Reply:
    """Re-ask within the step's bounds, or leave by ``fallback`` when they are used up."""
    step = turn.flow.steps[name]
    assert isinstance(step, (AskStep, VerifyStep))
    turn.state["unusable"] = int(turn.state["unusable"]) + 1
    turn.state["pending"] = None
    if turn.state["unusable"] > step.retries:
        return _enter(turn, fallback)
    if before:
        turn.say(before)
    turn.say(question_text(turn.flow, name, turn.channel))
    return turn.reply(_question(turn.flow, name))


def _needs_confirmation(flow: FlowFile, heard: Heard) -> bool:
    if heard.kind != "speech":
        return False
    if heard.confidence is None:
        return flow.speech.confirm_when_unknown
    return heard.confidence < flow.speech.min_confidence


def _confirm_options(flow: FlowFile) -> list[Option]:
    return [
        Option(key="1", words=list(phrase(flow, "yes_words")), next="confirmed"),
        Option(key="2", words=list(phrase(flow, "no_words")), next="rejected"),
    ]


def _english(flow: FlowFile) -> bool:
    return flow.language.startswith("en-")


def _understand(flow: FlowFile, heard: Heard, options: list[Option]) -> Understood:
    if heard.kind == "none":
        return Understood("no_input")
    if heard.kind == "dtmf":
        return understand_digits(heard.text, options)
    weak = [*phrase(flow, "yes_words"), *phrase(flow, "no_words")]
    return understand_text(heard.text, options, weak=weak, english=_english(flow))


def _triggered(flow: FlowFile, heard: Heard, kinds: tuple[str, ...]) -> tuple[str, Trigger] | None:
    """The first script-level trigger (opt-out, a death, worsening...) that a spoken or texted
    answer sets off, whatever the question was."""
    if heard.kind not in ("speech", "sms"):
        return None
    english = _english(flow)
    parts = clauses(heard.text or "", english=english)
    for kind in kinds:
        trigger = getattr(flow.understanding, kind)
        if trigger is not None and mentioned(parts, trigger.words, english=english):
            return kind, trigger
    return None


def _follow(turn: _Turn, name: str, kind: str, trigger: Trigger, heard: Heard) -> Reply:
    redact = isinstance(turn.flow.steps[name], VerifyStep)
    _record(turn, name, heard, kind, recorded=trigger.record, redact=redact)
    turn.state["recorded"].update(trigger.record)
    return _enter(turn, trigger.next)


def ends_in(flow: FlowFile, target: str) -> str | None:
    """The outcome reached from ``target`` through say steps alone, if it is an end."""
    seen: set[str] = set()
    while target not in seen:
        seen.add(target)
        step = flow.steps[target]
        if isinstance(step, EndStep):
            return step.end
        if not isinstance(step, SayStep):
            return None
        target = step.next
    return None


def _choose(turn: _Turn, name: str, option: Option, heard: Heard) -> Reply:
    _record(turn, name, heard, option.meaning, recorded=option.record)
    turn.state["recorded"].update(option.record)
    return _enter(turn, option.next)


def _answer_choice(turn: _Turn, name: str, step: AskStep, heard: Heard) -> Reply:
    flow = turn.flow
    fired = _triggered(flow, heard, TRIGGERS)
    if fired is not None:
        return _follow(turn, name, *fired, heard)
    pending = turn.state.get("pending")
    if pending is not None:
        answer = _understand(flow, heard, _confirm_options(flow))
        if answer.status == "match" and answer.option is not None and answer.option.key == "1":
            chosen = next(option for option in step.options if option.key == pending["key"])
            return _choose(turn, name, chosen, heard)
        _record(turn, name, heard, "rejected" if answer.status == "match" else answer.status)
        return _ask_again(turn, name, step.on_no_answer, before=None)
    answer = _understand(flow, heard, step.options)
    if answer.status == "match" and answer.option is not None:
        # A leave said in words is read back first, so one misheard word never makes a leave.
        said = heard.kind in ("speech", "sms") and not answer.by_key
        leaving = said and ends_in(flow, answer.option.next) == "leave"
        if leaving or _needs_confirmation(flow, heard):
            _record(turn, name, heard, f"unconfirmed:{answer.option.meaning}")
            heard_text = " ".join((heard.text or "").split())[:80]
            turn.state["pending"] = {"key": answer.option.key}
            # A text cannot "press": it gets a question it can reply to.
            confirm = "confirm_sms" if turn.channel == "sms" else "confirm"
            turn.say(str(phrase(flow, confirm)), heard=heard_text)
            return turn.reply(Question(step=name, input="choice", num_digits=1))
        return _choose(turn, name, answer.option, heard)
    _record(turn, name, heard, answer.status)
    reason = "no_input" if answer.status == "no_input" else "not_understood"
    return _ask_again(turn, name, step.on_no_answer, before=str(phrase(flow, reason)))


def _read_birth(heard: Heard, step: VerifyStep, expected: dt.date) -> dt.date | int | None:
    year_only = step.verify == "year_of_birth"
    text = (heard.text or "").strip()
    if heard.kind == "dtmf":
        return dates.from_keypad(text, year_only=year_only)
    # A two-digit year ("17 5 61") is read in the century of the record, never guessed.
    return dates.from_text(text, year_only=year_only, century_of=expected.year)


def _answer_verify(turn: _Turn, name: str, step: VerifyStep, heard: Heard) -> Reply:
    flow = turn.flow
    fallback = step.on_no_answer or step.on_failure
    if heard.kind == "none" or not (heard.text or "").strip():
        _record(turn, name, heard, "no_input", redact=True)
        return _ask_again(turn, name, fallback, before=str(phrase(flow, "no_input")))
    fired = _triggered(flow, heard, IDENTITY_TRIGGERS)
    if fired is not None:
        return _follow(turn, name, *fired, heard)
    given = _read_birth(heard, step, turn.facts.date_of_birth)
    if given is None:
        # Too few digits or an unreadable phrase is a mishearing, not a wrong date: re-ask.
        _record(turn, name, heard, "unreadable", redact=True)
        spoken = turn.channel == "voice" and heard.kind != "dtmf"
        hint = "use_keypad" if spoken else "not_understood"
        return _ask_again(turn, name, fallback, before=str(phrase(flow, hint)))
    expected: dt.date | int = turn.facts.date_of_birth
    if step.verify == "year_of_birth":
        expected = turn.facts.date_of_birth.year
    if given == expected:
        _record(turn, name, heard, "verified", redact=True)
        turn.state["verified"] = True
        return _enter(turn, step.on_success)
    _record(turn, name, heard, "not_matched", redact=True)
    turn.state["wrong"] = int(turn.state["wrong"]) + 1
    if turn.state["wrong"] >= step.tries:
        return _enter(turn, step.on_failure)
    turn.say(str(phrase(flow, "dob_not_matched")))
    turn.say(question_text(flow, name, turn.channel))
    return turn.reply(_question(flow, name))
