"""The shape of a call script file (``call_flows/*.yaml``), spec version 1.

Unknown keys are refused everywhere: a misspelt ``retires:`` must not silently become the default.
A step's kind is decided by its one defining key (``say`` alone, ``ask``, ``verify`` or ``end``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

SPEC_VERSION = 1
OUTCOMES = (
    "stay",
    "leave",
    "worsened",
    "unverified",
    "unclear",
    "callback_requested",
    "opted_out",
    "reported_deceased",
)
Outcome = Literal[
    "stay",
    "leave",
    "worsened",
    "unverified",
    "unclear",
    "callback_requested",
    "opted_out",
    "reported_deceased",
]
StepName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
RecordValue = str | int | bool | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    """One answer to a question: the keypad key, the words that mean it, where it leads."""

    key: Annotated[str, Field(pattern=r"^[0-9]$")]
    words: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(min_length=1)
    label: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    record: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], RecordValue] = {}
    next: StepName

    @property
    def meaning(self) -> str:
        """What the answer is stored as: its label, or its first word."""
        return self.label or self.words[0]


class _Step(_Strict):
    max_visits: Annotated[int, Field(ge=1, le=10)] | None = None
    on_max_visits: StepName | None = None

    @model_validator(mode="after")
    def _visits_need_a_target(self) -> _Step:
        if (self.max_visits is None) != (self.on_max_visits is None):
            raise ValueError("max_visits and on_max_visits go together: give both or neither")
        return self


class SayStep(_Step):
    """Say (or send) something, then go on to ``next``."""

    say: Annotated[str, Field(min_length=1)]
    sms: Annotated[str, Field(min_length=1)] | None = None
    next: StepName


class AskStep(_Step):
    """A question with options; re-asked up to ``retries`` times, then ``on_no_answer``."""

    ask: Annotated[str, Field(min_length=1)]
    sms: Annotated[str, Field(min_length=1)] | None = None
    options: list[Option] = Field(min_length=2, max_length=9)
    retries: Annotated[int, Field(ge=0, le=5)] = 2
    on_no_answer: StepName


class VerifyStep(_Step):
    """The identity check: date of birth (DDMMYYYY) or year of birth, with bounded tries."""

    verify: Literal["date_of_birth", "year_of_birth"]
    say: Annotated[str, Field(min_length=1)] | None = None
    sms: Annotated[str, Field(min_length=1)] | None = None
    tries: Annotated[int, Field(ge=1, le=3)] = 2
    retries: Annotated[int, Field(ge=0, le=5)] = 2
    on_success: StepName
    on_failure: StepName
    on_no_answer: StepName | None = None


class EndStep(_Step):
    """The end of the conversation, with its outcome and any closing words."""

    end: Outcome
    say: Annotated[str, Field(min_length=1)] | None = None
    sms: Annotated[str, Field(min_length=1)] | None = None


Step = SayStep | AskStep | VerifyStep | EndStep


def _step_kind(value: Any) -> str | None:
    """Which kind of step a mapping is, by its defining key (``None`` when it has none)."""
    if isinstance(value, BaseModel):
        return type(value).__name__.removesuffix("Step").lower()
    if not isinstance(value, dict):
        return None
    for kind in ("end", "verify", "ask"):
        if kind in value:
            return kind
    return "say" if "say" in value else None


AnyStep = Annotated[
    Annotated[SayStep, Tag("say")]
    | Annotated[AskStep, Tag("ask")]
    | Annotated[VerifyStep, Tag("verify")]
    | Annotated[EndStep, Tag("end")],
    Discriminator(
        _step_kind,
        custom_error_type="step_kind",
        custom_error_message="a step needs one of the keys say, ask, verify or end",
    ),
]


class SpeechSettings(_Strict):
    """How far speech recognition is trusted."""

    min_confidence: Annotated[float, Field(ge=0, le=1)] = 0.5
    confirm_when_unknown: bool = True


class SmsSettings(_Strict):
    """The budget for each text message sent."""

    max_segments: Annotated[int, Field(ge=1, le=4)] = 2


class Notices(_Strict):
    """Short texts beside the conversation, each a template of public variables only.

    ``pre_call`` goes the day before the first call ("we will call you from ..."); ``reminder``
    goes on the attempt policy's ``reminder_days`` after an unanswered closing text. Neither may
    say anything about the patient: whoever picks up the phone can read it. A script without
    one sends none of that kind.
    """

    pre_call: Annotated[str, Field(min_length=1)] | None = None
    reminder: Annotated[str, Field(min_length=1)] | None = None


class Phrases(_Strict):
    """The words the engine itself says (re-asks, confirmations, voicemail).

    English scripts may leave them out and get the defaults below; a script in any other language
    must give every one, so that nothing is said in a language the patient did not choose.
    """

    no_input: str | None = None
    not_understood: str | None = None
    confirm: str | None = None
    confirm_sms: str | None = None
    dob_prompt: str | None = None
    dob_prompt_sms: str | None = None
    yob_prompt: str | None = None
    yob_prompt_sms: str | None = None
    dob_not_matched: str | None = None
    use_keypad: str | None = None
    shared_phone: str | None = None
    voicemail: str | None = None
    yes_words: list[str] | None = None
    no_words: list[str] | None = None


class Trigger(_Strict):
    """Words that mean the same thing whichever question is asked, and where they lead."""

    words: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(min_length=1)
    record: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")], RecordValue] = {}
    next: StepName


class AnsweredBy(_Strict):
    """How someone answering for the patient says who they are ("I'm his wife", "ei merch"):
    a cue (his, her, their) then a relationship. What is heard is recorded, never acted on."""

    cues: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(min_length=1)
    relationships: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(min_length=1)


class Understanding(_Strict):
    """What any free-text answer is checked for before the question's own options, in order.

    ``opt_out`` and ``deceased`` apply at every question, the identity check included;
    ``distress``, ``red_flags`` (worsening) and ``person`` (wants a human) apply at every ``ask``
    step. A keypad key (or a reply that is only a key) never triggers them. ``answered_by`` only
    records who is answering.
    """

    opt_out: Trigger | None = None
    deceased: Trigger | None = None
    distress: Trigger | None = None
    red_flags: Trigger | None = None
    person: Trigger | None = None
    answered_by: AnsweredBy | None = None


TRIGGERS = ("opt_out", "deceased", "distress", "red_flags", "person")
# The triggers heard at the identity check: before identity is known nothing clinical is taken.
IDENTITY_TRIGGERS = ("opt_out", "deceased")


class FlowFile(_Strict):
    """A whole call script file."""

    spec: Literal[1]
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    version: Annotated[int, Field(ge=1)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}-[A-Z]{2}$")]
    channels: list[Literal["voice", "sms"]] = Field(min_length=1, max_length=2)
    voice: str | None = None
    description: str | None = None
    safety_net: Annotated[str, Field(min_length=1)]
    speech: SpeechSettings = SpeechSettings()
    sms: SmsSettings = SmsSettings()
    phrases: Phrases = Phrases()
    understanding: Understanding = Understanding()
    notices: Notices = Notices()
    start: StepName
    steps: dict[StepName, AnyStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _channels_are_distinct(self) -> FlowFile:
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("channels lists a channel twice")
        return self
