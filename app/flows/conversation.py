"""The values that pass between the engine and its callers (telephony webhooks, SMS, simulate)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

InputKind = Literal["dtmf", "speech", "sms", "none"]
Channel = Literal["voice", "sms"]


@dataclass(frozen=True)
class Heard:
    """One input from the patient; ``none`` is an empty gather or a timeout."""

    kind: InputKind
    text: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class RecordedAnswer:
    """One row of the ``answer`` table, minus ids."""

    step: str
    turn: int
    prompt: str
    input_kind: str
    raw_input: str | None
    confidence: float | None
    interpretation: str | None
    recorded: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    """The step now waiting for input, and what kind of input it takes."""

    step: str
    input: Literal["choice", "date_of_birth", "year_of_birth"]
    num_digits: int | None


@dataclass(frozen=True)
class Reply:
    """What to say or send now, the state to keep, the answers to store, and the outcome."""

    messages: list[str]
    question: Question | None
    state: dict[str, Any]
    answers: list[RecordedAnswer]
    outcome: str | None

    @property
    def ended(self) -> bool:
        """Whether the conversation is over."""
        return self.question is None

    @property
    def recorded(self) -> dict[str, Any]:
        """Every value recorded so far in the conversation (e.g. ``willing_to_travel``)."""
        return dict(self.state.get("recorded", {}))
