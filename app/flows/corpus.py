"""The labelled corpus: replies people really give, each with the intent a clinician would assign.

Hand-written replies live in ``call_flows/corpus/<flow id>.yaml``; each is then said the ways it
reaches us: by voice as a speech recogniser writes it (lower case, no punctuation, fillers, "to"
for "two") and by SMS (capitals, typos, emoji, a second sentence). The variants are made by fixed
rules, so the corpus is the same on every run.

A reply is held out when the SHA-256 of its hand-written text starts with a byte divisible by
five (about one in five). Every variant of a held-out reply is held out with it, so the rules are
never tuned on any form of it; ``waitlist flow evaluate`` shows the failing examples of the tuning
part only.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from app.errors import InvalidInputError, NotFoundError

CORPUS_DIR = "corpus"
INTENTS = (
    "still_needed", "not_needed", "worse", "same", "better", "willing", "not_willing", "unsure",
    "wants_person", "opt_out", "reported_deceased", "someone_else", "date_of_birth", "distressed",
)  # fmt: skip
# Replies under ``any_question`` mean the same whatever is asked; worsening and asking for a
# person are taken at questions, opting out and a death at the identity check too.
ASK_ONLY = frozenset({"worse", "wants_person", "distressed"})

Part = Literal["tuning", "held_out"]
Channel = Literal["voice", "sms"]


@dataclass(frozen=True)
class Case:
    """One reply to one question, as it arrives on one channel."""

    question: str
    intent: str
    channel: Channel
    text: str
    written: str  # the hand-written reply this variant comes from
    part: Part


def part_of(written: str) -> Part:
    """Which part a hand-written reply (and every variant of it) belongs to."""
    return "held_out" if hashlib.sha256(written.encode("utf-8")).digest()[0] % 5 == 0 else "tuning"


_SPOKEN_DIGITS = {"1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six"}
_WELSH_DIGITS = {"1": "un", "2": "dau", "3": "tri"}
# What speech recognisers write for what was said.
_MISHEARD = {"two": "to", "four": "for", "worse": "worst", "yeah": "yeah yeah"}
_VOICE_BEFORE = ("", "um ", "er ", "well ", "oh ", "erm ", "so ")
_VOICE_AFTER = ("", " thank you", " love", " sorry", " thanks", "")
_SMS_BEFORE = ("", "Hi. ", "Sorry for the late reply. ", "hello ", "Hiya, ")
_SMS_AFTER = ("", " Thanks", " x", " 👍", " 🙂", " thank you!!", ".")
_WELSH_VOICE_BEFORE = ("", "ym ", "wel ", "o ", "y ")
_WELSH_AFTER = ("", " diolch", " diolch yn fawr", " plis", "")
_WELSH_SMS_BEFORE = ("", "Helo. ", "Sori am yr oedi. ", "Shwmae, ")


def _pick(options: tuple[str, ...], written: str, salt: str) -> str:
    digest = hashlib.sha256(f"{salt}:{written}".encode()).digest()
    return options[digest[0] % len(options)]


def _voice(text: str, *, english: bool) -> str:
    """A reply as a speech recogniser writes it: lower case, no punctuation, digits as words."""
    spoken = re.sub(r"[^\w'&\s]", " ", text.lower())
    digits = _SPOKEN_DIGITS if english else _WELSH_DIGITS
    return " ".join(digits.get(word, word) for word in spoken.split())


def _typo(text: str, salt: str) -> str:
    """Swap two inner letters of the longest word of six letters or more (fat thumbs)."""
    words = text.split(" ")
    longest = max(range(len(words)), key=lambda i: len(words[i]), default=0)
    word = words[longest] if words else ""
    if len(word) < 6 or not word.isalpha():
        return text
    at = 1 + hashlib.sha256(f"{salt}:{text}".encode()).digest()[0] % (len(word) - 3)
    words[longest] = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    return " ".join(words)


def variants(written: str, *, english: bool) -> list[tuple[Channel, str]]:
    """The forms one hand-written reply takes on each channel (distinct, in a fixed order)."""
    before = _VOICE_BEFORE if english else _WELSH_VOICE_BEFORE
    after = _VOICE_AFTER if english else _WELSH_AFTER
    sms_before = _SMS_BEFORE if english else _WELSH_SMS_BEFORE
    spoken = _voice(written, english=english)
    forms: list[tuple[Channel, str]] = [("voice", spoken)]
    for salt in ("a", "b", "c"):
        forms.append(
            ("voice", f"{_pick(before, written, salt)}{spoken}{_pick(after, written, salt + 'z')}")
        )
    misheard = " ".join(_MISHEARD.get(word, word) for word in spoken.split())
    forms.append(("voice", misheard))
    forms.append(("sms", written))
    forms.append(("sms", written.upper()))
    forms.append(("sms", _typo(written, "t")))
    for salt in ("d", "e"):
        sms = f"{_pick(sms_before, written, salt)}{written}{_pick(_SMS_AFTER, written, salt)}"
        forms.append(("sms", sms))
    forms.append(("sms", written[:1].lower() + written[1:].rstrip(".!")))
    seen: set[tuple[Channel, str]] = set()
    distinct: list[tuple[Channel, str]] = []
    for channel, text in forms:
        text = " ".join(text.split())
        if text and (channel, text) not in seen:
            seen.add((channel, text))
            distinct.append((channel, text))
    return distinct


@dataclass(frozen=True)
class Corpus:
    """Every case for one script, and the questions it covers."""

    flow_id: str
    path: Path
    cases: list[Case]


def _reply(path: Path, reply: object) -> str:
    """One hand-written reply; YAML reads a bare yes or no as true or false, so refuse those."""
    if isinstance(reply, bool):
        raise InvalidInputError(f'{path}: a reply read as {reply}: quote it ("yes", "no")')
    return str(reply)


def corpus_path(flows_path: Path, flow_id: str) -> Path:
    """Where a script's corpus is kept."""
    return flows_path / CORPUS_DIR / f"{flow_id}.yaml"


def load_corpus(
    flows_path: Path, flow_id: str, *, questions: list[str], verify: list[str], english: bool
) -> Corpus:
    """Read a script's corpus and expand every reply into its voice and SMS forms."""
    path = corpus_path(flows_path, flow_id)
    if not path.is_file():
        raise NotFoundError(f"No corpus for call script {flow_id!r} (expected {path})")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if data.get("flow") != flow_id:
        raise InvalidInputError(f"{path}: flow must be {flow_id!r}")
    written: list[tuple[str, str, str]] = []
    for intent, replies in (data.get("any_question") or {}).items():
        for question in [*questions, *verify]:
            if question in verify and intent in ASK_ONLY:
                continue
            written.extend((question, intent, _reply(path, reply)) for reply in replies)
    for question, intents in (data.get("questions") or {}).items():
        if question not in questions and question not in verify:
            raise InvalidInputError(f"{path}: {question!r} is not a question of {flow_id!r}")
        for intent, replies in intents.items():
            written.extend((question, intent, _reply(path, reply)) for reply in replies)
    cases: list[Case] = []
    for question, intent, reply in written:
        if intent not in INTENTS:
            raise InvalidInputError(f"{path}: unknown intent {intent!r} (use one of {INTENTS})")
        for channel, text in variants(reply, english=english):
            cases.append(Case(question, intent, channel, text, reply, part_of(reply)))
    return Corpus(flow_id=flow_id, path=path, cases=cases)
