"""Reading a date or year of birth from keypad digits, a speech transcript or a text message.

Keypad input is DDMMYYYY (or YYYY). Speech and text accept what people and speech recognisers
actually produce: "14031956", "14/03/1956", "14 3 56" is refused (a two-digit year is a guess),
"14th March 1956", "the fourteenth of march nineteen fifty six", Welsh month names. Anything else
returns ``None`` and the caller asks for the keypad instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import re

from app.flows.understanding import clauses

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
    "ionawr": 1, "chwefror": 2, "mawrth": 3, "ebrill": 4, "mai": 5, "mehefin": 6,
    "gorffennaf": 7, "awst": 8, "medi": 9, "hydref": 10, "tachwedd": 11, "rhagfyr": 12,
}  # fmt: skip
UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9,
}  # fmt: skip
TEENS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}  # fmt: skip
ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}  # fmt: skip
FILLER = frozenset(
    {"the", "of", "on", "and", "my", "birthday", "is", "born", "i", "was", "it's", "date", "birth",
     "in", "o", "fed", "ar", "y", "yr", "o'r", "um", "er"}
)  # fmt: skip


def from_keypad(digits: str, *, year_only: bool) -> dt.date | int | None:
    """DDMMYYYY as a date (or YYYY as a year); ``None`` when it is not a real one."""
    if year_only:
        return int(digits) if re.fullmatch(r"(19|20)[0-9]{2}", digits) else None
    if not re.fullmatch(r"[0-9]{8}", digits):
        return None
    try:
        return dt.date(int(digits[4:]), int(digits[2:4]), int(digits[:2]))
    except ValueError:
        return None


def _numbers(words: list[str]) -> list[int] | None:
    """Spoken numbers in order ("nineteen fifty six" -> [19, 56]); ``None`` on any other word."""
    values: list[int] = []
    pending_tens: int | None = None
    for word in words:
        plain = re.fullmatch(r"([0-9]+)(st|nd|rd|th)?", word)
        if plain:
            values.append(int(plain.group(1)))
            continue
        if word in TENS:
            if pending_tens is not None:
                values.append(pending_tens)
            pending_tens = TENS[word]
            continue
        parts = word.split("-")
        if len(parts) == 2 and parts[0] in TENS and parts[1] in (UNITS | ORDINALS):
            values.append(TENS[parts[0]] + (UNITS | ORDINALS)[parts[1]])
            continue
        unit = UNITS.get(word, ORDINALS.get(word))
        if unit is not None and unit < 10 and pending_tens is not None:
            values.append(pending_tens + unit)
            pending_tens = None
            continue
        if pending_tens is not None:
            values.append(pending_tens)
            pending_tens = None
        small = UNITS.get(word, TEENS.get(word, ORDINALS.get(word)))
        if small is None:
            return None
        values.append(small)
    if pending_tens is not None:
        values.append(pending_tens)
    return values


def _year(numbers: list[int]) -> int | None:
    """A four-digit year, said as one number (1956) or as two halves (nineteen fifty six)."""
    if len(numbers) == 1 and 1900 <= numbers[0] <= 2099:
        return numbers[0]
    if len(numbers) == 2 and numbers[0] in (19, 20) and 0 <= numbers[1] <= 99:
        return numbers[0] * 100 + numbers[1]
    return None


def from_text(text: str, *, year_only: bool) -> dt.date | int | None:
    """A date (or year) of birth from speech or a text message; ``None`` when unsure."""
    slashed = re.fullmatch(r"\s*([0-9]{1,2})[/.\- ]([0-9]{1,2})[/.\- ]([0-9]{4})\s*", text)
    if slashed and not year_only:
        day, month, year = (int(part) for part in slashed.groups())
        return _date(year, month, day)
    compact = re.sub(r"[\s/.\-]", "", text)
    if compact.isdigit():
        return from_keypad(compact, year_only=year_only)
    words = [word for clause in clauses(text) for word in clause if word not in FILLER]
    if year_only:
        numbers = _numbers(words)
        return _year(numbers) if numbers else None
    month_positions = [index for index, word in enumerate(words) if word in MONTHS]
    if len(month_positions) != 1:
        return None
    position = month_positions[0]
    day_numbers = _numbers(words[:position])
    year_numbers = _numbers(words[position + 1 :])
    if not day_numbers or len(day_numbers) != 1 or not year_numbers:
        return None
    birth_year = _year(year_numbers)
    if birth_year is None:
        return None
    return _date(birth_year, MONTHS[words[position]], day_numbers[0])


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
