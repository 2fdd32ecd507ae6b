"""Understanding an answer: keypad digits, speech transcripts and SMS free text.

The rule is to understand what is plainly meant and to refuse to guess the rest. Text is lower
cased, stripped of punctuation and common variants ("yep", "1.", "number one"); an option matches
when one of its ``words`` appears as whole words and is not negated ("not worse", "no worse");
words from two different options make the answer ambiguous, and the question is asked again.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from app.flows.schema import Option

NUMBER_WORDS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "to": "2", "too": "2", "three": "3",
    "four": "4", "for": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "un": "1", "dau": "2", "dwy": "2", "tri": "3", "tair": "3", "pedwar": "4", "pedair": "4",
    "pump": "5", "chwech": "6", "saith": "7", "wyth": "8", "naw": "9",
}  # fmt: skip
# Spoken and typed variants mapped to the word a script author would write.
VARIANTS = {
    "yep": "yes", "yeah": "yes", "yup": "yes", "yea": "yes", "ya": "yes", "aye": "yes",
    "yess": "yes", "yes's": "yes", "yez": "yes", "yas": "yes", "yh": "yes", "ye": "yes",
    "nope": "no", "nah": "no", "naw": "no", "noo": "no", "nooo": "no",
    "dont": "don't", "doesnt": "doesn't", "wont": "won't", "cant": "can't", "couldnt": "couldn't",
    "wouldnt": "wouldn't", "shouldnt": "shouldn't", "wasnt": "wasn't",
    "aint": "ain't", "didnt": "didn't", "isnt": "isn't", "havent": "haven't",
    "hasnt": "hasn't", "im": "i'm", "ive": "i've", "its": "it's", "thats": "that's",
}  # fmt: skip
# One-letter replies that mean yes and no only in English: in Welsh "y" is "the".
ENGLISH_ONLY_VARIANTS = {"y": "yes", "n": "no"}
# Words that carry no meaning at the edges of an answer ("yes please", "um no thanks").
FILLERS = frozenset(
    {"please", "thanks", "thank", "you", "um", "umm", "er", "erm", "uh", "ah", "oh", "well",
     "diolch", "plis", "press", "pressed", "option", "number", "the", "i", "said"}
)  # fmt: skip
NEGATORS = frozenset(
    {"not", "no", "never", "isn't", "aren't", "don't", "didn't", "hasn't", "haven't", "hardly",
     "doesn't", "won't", "wasn't", "ain't", "n't", "ddim", "dim", "nid", "nac", "heb", "nad"}
)  # fmt: skip
# Between a negator and a red-flag word, only these keep the negation: "not any worse" is not
# worse, but "not much worse" and "not a lot worse" are still worse.
RED_FLAG_SKIPPABLE = frozenset(
    {"any", "got", "getting", "been", "become", "gone", "yn", "wedi", "at", "all"}
)  # fmt: skip
# Words that may sit between a negator and what it negates ("not any worse", "no much better").
INTENSIFIERS = frozenset(
    {"any", "much", "really", "very", "that", "at", "all", "a", "lot", "got", "getting", "been",
     "become", "gone", "yn", "wedi", "mor"}
)  # fmt: skip
# "I do not", "I would not": an answer word negated by what follows it.
AUXILIARIES = frozenset({"do", "does", "would", "will", "have", "has", "am", "did", "can"})
# Words around a bare key that do not change it ("oh two love", "Hiya, 2 x", "yeah two").
KEY_COMPANIONS = frozenset(
    {"yes", "ok", "okay", "love", "thanks", "cheers", "x", "xx", "hi", "hiya", "hello", "sorry",
     "its", "it's", "is", "it", "so", "right", "diolch", "yn", "fawr", "plis", "wel", "ym", "y",
     "o", "helo", "shwmae"}
)  # fmt: skip
_CLAUSE_BREAK = re.compile(r"[,;.!?:\n]+")
_NOT_WORD = re.compile(r"[^\w' ]+")


def fold(text: str) -> str:
    """Lower case, typographic apostrophes made plain, accents kept (Welsh needs them)."""
    text = unicodedata.normalize("NFC", text).lower()
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")


def tokens(text: str, *, english: bool = True) -> list[str]:
    """The words of one clause, with variants mapped and edge punctuation removed."""
    words = [word.strip("'") for word in _NOT_WORD.sub(" ", fold(text)).split()]
    variants = {**VARIANTS, **ENGLISH_ONLY_VARIANTS} if english else VARIANTS
    return [variants.get(word, word) for word in words if word]


@functools.lru_cache(maxsize=4096)
def _phrase(word: str, english: bool) -> tuple[str, ...]:
    """A script's word or phrase as tokens, worked out once: the vocabulary is fixed by the
    approved scripts, and tokenising it again for every answer was most of understanding's cost.
    Only script words come here, never what a patient said."""
    return tuple(tokens(word, english=english))


def clauses(text: str, *, english: bool = True) -> list[list[str]]:
    """The answer split at punctuation; negation never reaches across a clause."""
    parts = [tokens(part, english=english) for part in _CLAUSE_BREAK.split(fold(text))]
    return [part for part in parts if part]


def normalise(text: str) -> str:
    """A canonical form of an answer, for display and comparison."""
    return " ".join(word for clause in clauses(text) for word in clause)


@dataclass(frozen=True)
class Understood:
    """What an answer meant: one option, or why none was chosen."""

    status: Literal["match", "no_input", "unrecognised", "ambiguous"]
    option: Option | None = None
    # The answer was only a key ("2", "number two"): as direct as pressing it.
    by_key: bool = False


def _negated(
    clause: Sequence[str],
    start: int,
    skippable: frozenset[str] = INTENSIFIERS,
    stop: int | None = None,
) -> bool:
    """Whether the words at ``start:stop`` are negated by what comes just before (or after) them.

    A phrase that is itself negative ("not yet", "don't need") is not negated by a "no" before it
    ("no, not yet"); "i do not" negates "i do".
    """
    if clause[start] in NEGATORS:
        return False
    auxiliary = clause[stop - 1] in AUXILIARIES if stop else False
    if auxiliary and stop is not None and stop < len(clause) and clause[stop] == "not":
        return True
    position = start - 1
    skipped = 0
    while position >= 0 and clause[position] in skippable and skipped < 2:
        position -= 1
        skipped += 1
    return position >= 0 and clause[position] in NEGATORS


def one_slip(said: str, word: str) -> bool:
    """Whether ``said`` is ``word`` with one letter wrong, missing, extra or swapped ("wrose").

    Only words of five letters or more (shorter ones are too close to other words), and never the
    first letter: in Welsh that is where mutations are ("byddwn", "fyddwn").
    """
    if said == word:
        return True
    if len(word) < 5 or abs(len(said) - len(word)) > 1 or not said.isalpha():
        return False
    if said[0] != word[0]:
        return False
    if len(said) == len(word):
        diffs = [i for i, (a, b) in enumerate(zip(said, word, strict=True)) if a != b]
        if len(diffs) == 1:
            return True
        first, second = diffs[0], diffs[-1]
        return (
            len(diffs) == 2
            and second == first + 1
            and said[first] == word[second]
            and (said[second] == word[first])
        )
    shorter, longer = sorted((said, word), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def _occurrences(clause: Sequence[str], phrase: Sequence[str]) -> list[tuple[int, int]]:
    """Where ``phrase`` stands in the clause, each word as said or with one slip.

    ``one_slip`` never accepts a different first letter, so a position whose word starts
    otherwise is passed over before the full comparison: every answer is checked against every
    phrase of a script's triggers and options, and most positions fail on that first letter.
    """
    size = len(phrase)
    if not size:
        return [(start, start) for start in range(len(clause) + 1)]
    head = phrase[0][:1]
    return [
        (start, start + size)
        for start in range(len(clause) - size + 1)
        if clause[start][:1] == head
        and all(
            one_slip(said, word)
            for said, word in zip(clause[start : start + size], phrase, strict=True)
        )
    ]


def _key_from_words(clause: Sequence[str]) -> str | None:
    """A bare key ("1", "one", "press 1", "option one") when that is all the clause says."""
    meaningful = [word for word in clause if word not in FILLERS]
    keys = [NUMBER_WORDS.get(word, word) for word in meaningful if word not in KEY_COMPANIONS]
    if len(keys) != 1 or not re.fullmatch(r"[0-9]", keys[0]):
        return None
    return keys[0]


def _option_for_negated(phrase: tuple[str, ...], options: Sequence[Option]) -> Option | None:
    """The option whose words include this phrase negated ("not worse"), if exactly one does."""
    found = {
        option.key: option
        for option in options
        for word in option.words
        if (negated := _phrase(word, True))[-len(phrase) :] == phrase
        and len(negated) > len(phrase)
        and _negated(negated, len(negated) - len(phrase))
    }
    return next(iter(found.values())) if len(found) == 1 else None


def understand_text(
    text: str | None,
    options: Sequence[Option],
    *,
    weak: Collection[str] = (),
    english: bool = True,
) -> Understood:
    """Match free text (speech or SMS) against the options of one question.

    ``weak`` words (a bare "yes" or "no") yield to any other option's words in the same answer:
    "no, I still need it" means still needed.
    """
    parts = clauses(text or "", english=english)
    if not parts:
        return Understood("no_input")
    by_key = {option.key: option for option in options}
    weak_phrases = {" ".join(_phrase(word, english)) for word in weak}
    strong: dict[str, Option] = {}
    weakly: dict[str, Option] = {}
    keyed = True
    for clause in parts:
        key = _key_from_words(clause)
        if key is not None:
            if key not in by_key:
                return Understood("unrecognised")
            strong[key] = by_key[key]
            continue
        keyed = False
        spans: list[tuple[int, int, Option]] = []
        for option in options:
            for word in option.words:
                phrase = _phrase(word, english)
                for start, stop in _occurrences(clause, phrase):
                    if not _negated(clause, start, stop=stop):
                        spans.append((start, stop, option))
                    elif negation := _option_for_negated(phrase, options):
                        # "not any worse" means the option that says "not worse".
                        spans.append((start, stop, negation))
        for start, stop, option in spans:
            inside_longer = any(
                other is not option and s <= start and stop <= e and (e - s) > (stop - start)
                for s, e, other in spans
            )
            if inside_longer:
                continue
            if " ".join(clause[start:stop]) in weak_phrases:
                weakly[option.key] = option
            else:
                strong[option.key] = option
    chosen = strong or weakly
    if len(chosen) == 1:
        return Understood("match", next(iter(chosen.values())), by_key=keyed)
    return Understood("ambiguous" if chosen else "unrecognised")


def mentions(text: str | None, words: Sequence[str], *, english: bool = True) -> bool:
    """Whether any of ``words`` appears un-negated in the text (strictly: "not much worse" does).

    Used for what matters whatever the question: worsening, opting out, a death.
    """
    return mentioned(clauses(text or "", english=english), words, english=english)


def mentioned(parts: Sequence[Sequence[str]], words: Sequence[str], *, english: bool) -> bool:
    """``mentions`` for an answer already split by ``clauses`` (one split for many checks)."""
    by_head = _phrases_by_head(tuple(words), english)
    for clause in parts:
        if _key_from_words(clause) is not None:
            continue
        for head in {"", *(word[:1] for word in clause)}:
            for phrase in by_head.get(head, ()):
                for start, stop in _occurrences(clause, phrase):
                    if not _negated(clause, start, RED_FLAG_SKIPPABLE, stop=stop):
                        return True
    return False


@functools.lru_cache(maxsize=1024)
def _phrases_by_head(words: tuple[str, ...], english: bool) -> dict[str, list[tuple[str, ...]]]:
    """A trigger's phrases grouped by their first letter, worked out once per word list.

    A phrase can only stand where a word of the answer starts with its first letter (see
    ``_occurrences``), so an answer is checked against those phrases alone, not against every
    one of a script's red flags. A phrase of no words is kept under "" and always checked.
    """
    grouped: dict[str, list[tuple[str, ...]]] = {}
    for word in words:
        phrase = _phrase(word, english)
        grouped.setdefault(phrase[0][:1] if phrase else "", []).append(phrase)
    return grouped


def understand_digits(digits: str | None, options: Sequence[Option]) -> Understood:
    """Match keypad input: exactly one key that an option uses."""
    pressed = (digits or "").strip()
    if not pressed:
        return Understood("no_input")
    for option in options:
        if option.key == pressed:
            return Understood("match", option)
    return Understood("unrecognised")


def overlapping_words(
    options: Sequence[Option], *, weak: Collection[str] = (), english: bool = True
) -> list[tuple[str, str, str]]:
    """Words that could mean two options of one question: (the words, one key, the other key).

    Two options overlap when a word of one is the same as, or sits un-negated inside, a word of the
    other ("worse" and "much worse"); "worse" beside "not worse" is fine, the engine reads negation,
    and so is a bare yes or no (``weak``) inside a longer phrase: the longer phrase wins.
    """
    weak_phrases = {" ".join(tokens(word, english=english)) for word in weak}
    found: list[tuple[str, str, str]] = []
    for index, option in enumerate(options):
        for other in options[index + 1 :]:
            for word in option.words:
                for other_word in other.words:
                    mine = tokens(word, english=english)
                    theirs = tokens(other_word, english=english)
                    if mine != theirs and weak_phrases & {" ".join(mine), " ".join(theirs)}:
                        continue
                    inner, outer = (mine, theirs) if len(mine) <= len(theirs) else (theirs, mine)
                    starts = [start for start, _ in _occurrences(outer, inner)]
                    if inner and starts and not all(_negated(outer, s) for s in starts):
                        found.append((f"{word!r} / {other_word!r}", option.key, other.key))
    return found
