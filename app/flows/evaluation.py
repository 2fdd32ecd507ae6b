"""Running the labelled corpus through the real engine: what each reply was taken to mean.

Each case is one reply at one question, given to ``continue_conversation`` from the state the
conversation is in when that question is asked (reached by keyed answers). What the engine did is
read from the answer it recorded: an option's label, a script-level trigger (``red_flags``,
``opt_out``, ``deceased``, ``distress``, ``person``), ``verified``, or ``asked_again``;
``read_back`` marks an answer that is confirmed before it counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.flows.conversation import Heard, Reply
from app.flows.corpus import Case, load_corpus
from app.flows.engine import continue_conversation, ends_in, start_conversation
from app.flows.loading import LoadedScript
from app.flows.schema import AskStep, VerifyStep
from app.flows.simulation import sample_facts

# Which understandings are right for each intent.
RIGHT: dict[str, frozenset[str]] = {
    "still_needed": frozenset({"still_needed"}),
    "not_needed": frozenset({"not_needed"}),
    "worse": frozenset({"worse", "red_flags", "distress"}),
    "same": frozenset({"same"}),
    "better": frozenset({"better"}),
    "willing": frozenset({"willing_to_travel"}),
    "not_willing": frozenset({"not_willing_to_travel"}),
    "unsure": frozenset({"asked_again"}),
    "wants_person": frozenset({"callback", "person"}),
    "opt_out": frozenset({"opt_out"}),
    "reported_deceased": frozenset({"deceased"}),
    "someone_else": frozenset({"asked_again", "callback", "person"}),
    "date_of_birth": frozenset({"verified"}),
    # Distress, or a worsening: either reaches a clinician first.
    "distressed": frozenset({"distress", "red_flags"}),
}
LEAVING = "not_needed"
# Intents for which being taken as leaving (without a read-back) could take a patient off a list.
MUST_NOT_LEAVE = frozenset(
    {"still_needed", "unsure", "worse", "someone_else", "wants_person", "distressed"}
)
ASKED_AGAIN = frozenset({"unrecognised", "ambiguous", "no_input", "unreadable", "not_matched"})
SPEECH_CONFIDENCE = 0.9  # a clear line: low-confidence confirmation is tested elsewhere


@dataclass(frozen=True)
class Result:
    """What the engine made of one case."""

    case: Case
    taken: str
    read_back: bool

    @property
    def right(self) -> bool:
        """Whether the reply was understood as a clinician would."""
        return self.taken in RIGHT[self.case.intent]

    @property
    def risky(self) -> str | None:
        """Why this misunderstanding could harm the patient, or ``None``."""
        intent, taken = self.case.intent, self.taken
        if intent == "worse" and taken not in RIGHT["worse"]:
            return "a worsening taken as something else"
        if intent == "distressed" and taken not in RIGHT["distressed"]:
            return "distress taken as something else"
        if intent in MUST_NOT_LEAVE and taken == LEAVING and not self.read_back:
            return "taken as leaving"
        if intent == "opt_out" and taken != "opt_out":
            return "an opt-out taken as something else"
        return None


@dataclass
class Tally:
    """The figures for one slice of the corpus."""

    cases: int = 0
    right: int = 0
    read_back: int = 0
    asked_again: int = 0
    risky: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, result: Result) -> None:
        self.cases += 1
        self.right += result.right
        self.read_back += result.read_back
        self.asked_again += result.taken == "asked_again"
        self.risky += result.risky is not None
        self.confusion[(result.case.intent, result.taken)] += 1

    @property
    def share_right(self) -> float:
        """The share understood right (0 when there are no cases)."""
        return self.right / self.cases if self.cases else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The figures as plain data."""
        confusion: dict[str, dict[str, int]] = {}
        for (intent, taken), count in sorted(self.confusion.items()):
            confusion.setdefault(intent, {})[taken] = count
        return {
            "cases": self.cases,
            "right": self.right,
            "share_right": round(self.share_right, 4),
            "read_back": self.read_back,
            "asked_again": self.asked_again,
            "share_read_back_or_asked_again": round(
                (self.read_back + self.asked_again) / self.cases if self.cases else 0.0, 4
            ),
            "risky": self.risky,
            "confusion": confusion,
        }


@dataclass(frozen=True)
class Evaluation:
    """Every result for one script."""

    flow_id: str
    language: str
    results: list[Result]

    def tally(self, **where: str) -> Tally:
        """The figures for the results whose case has every given attribute value."""
        tally = Tally()
        for result in self.results:
            if all(getattr(result.case, key) == value for key, value in where.items()):
                tally.add(result)
        return tally

    def as_dict(self) -> dict[str, Any]:
        """Figures overall, per part, per channel and per question, and the risky cases."""
        questions = sorted({result.case.question for result in self.results})
        return {
            "flow_id": self.flow_id,
            "language": self.language,
            "overall": self.tally().as_dict(),
            "held_out": self.tally(part="held_out").as_dict(),
            "tuning": self.tally(part="tuning").as_dict(),
            "by_channel": {c: self.tally(channel=c).as_dict() for c in ("voice", "sms")},
            "by_question": {q: self.tally(question=q).as_dict() for q in questions},
            "risky_cases": [_describe(r) for r in self.results if r.risky],
        }


def _describe(result: Result) -> dict[str, Any]:
    case = result.case
    return {
        "question": case.question,
        "intent": case.intent,
        "channel": case.channel,
        "text": case.text,
        "taken": result.taken,
        "read_back": result.read_back,
        "part": case.part,
        "risk": result.risky,
    }


def _walk_to(script: LoadedScript, question: str, channel: str) -> Reply:
    """The conversation as it stands when ``question`` is asked, reached by keyed answers."""
    facts = sample_facts(organisation_name="Example NHS Trust", callback_number="0113 496 0000")
    kind: Any = "voice" if channel == "voice" else "sms"
    reply = start_conversation(script, facts, channel=kind)
    for _ in range(len(script.flow.steps)):
        if reply.question is None:
            break
        if reply.question.step == question:
            return reply
        step = script.flow.steps[reply.question.step]
        if isinstance(step, VerifyStep):
            heard = Heard("dtmf", facts.date_of_birth.strftime("%d%m%Y"))
        else:
            assert isinstance(step, AskStep)
            # The first option that leads on to another question, not to an end.
            onward = [o for o in step.options if ends_in(script.flow, o.next) is None]
            heard = Heard("dtmf", (onward or step.options)[0].key)
        reply = continue_conversation(script, reply.state, heard, facts, channel=kind)
    raise ValueError(f"question {question!r} cannot be reached with keyed answers")


def _taken(reply: Reply) -> tuple[str, bool]:
    """What the engine made of the answer: (what it was taken as, whether it is read back)."""
    meaning = (reply.answers[0].interpretation if reply.answers else None) or "asked_again"
    if meaning.startswith("unconfirmed:"):
        return meaning.removeprefix("unconfirmed:"), True
    if meaning in ASKED_AGAIN:
        return "asked_again", False
    return meaning, False


def questions_of(script: LoadedScript) -> tuple[list[str], list[str]]:
    """The script's choice questions and identity checks, in file order."""
    steps = script.flow.steps.items()
    asks = [name for name, step in steps if isinstance(step, AskStep)]
    checks = [name for name, step in steps if isinstance(step, VerifyStep)]
    return asks, checks


def evaluate(script: LoadedScript, flows_path: Path) -> Evaluation:
    """Run every case of the script's corpus through the engine."""
    asks, checks = questions_of(script)
    english = script.flow.language.startswith("en-")
    corpus = load_corpus(flows_path, script.id, questions=asks, verify=checks, english=english)
    facts = sample_facts(organisation_name="Example NHS Trust", callback_number="0113 496 0000")
    starts: dict[tuple[str, str], Reply] = {}
    results: list[Result] = []
    for case in corpus.cases:
        if case.channel not in script.channels:
            continue
        key = (case.question, case.channel)
        if key not in starts:
            starts[key] = _walk_to(script, case.question, case.channel)
        heard = (
            Heard("speech", case.text, SPEECH_CONFIDENCE)
            if case.channel == "voice"
            else Heard("sms", case.text)
        )
        reply = continue_conversation(script, starts[key].state, heard, facts, channel=case.channel)
        taken, read_back = _taken(reply)
        results.append(Result(case, taken, read_back))
    return Evaluation(flow_id=script.id, language=script.flow.language, results=results)
