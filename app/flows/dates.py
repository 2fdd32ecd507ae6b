"""Reading a date or year of birth from keypad digits, a speech transcript or a text message.

Keypad input is DDMMYYYY (or YYYY). Speech and text accept what people and speech recognisers
actually produce: "14031956", "14/03/1956", "14 3 56" is refused (a two-digit year is a guess),
"14th March 1956", "the fourteenth of march nineteen fifty six", Welsh month names. Anything else
returns ``None`` and the caller asks for the keypad instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import re

from app.flows.understanding import clauses, fold, one_slip

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
    "ionawr": 1, "chwefror": 2, "mawrth": 3, "ebrill": 4, "mai": 5, "mehefin": 6,
    "gorffennaf": 7, "awst": 8, "medi": 9, "hydref": 10, "tachwedd": 11, "rhagfyr": 12,
    # Welsh month names after "o" ("of") take the soft mutation: "o Fai", "o Fedi".
    "fawrth": 3, "fai": 5, "fehefin": 6, "orffennaf": 7, "fedi": 9, "dachwedd": 11,
    "ragfyr": 12,
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
     "in", "o", "fed", "ar", "y", "yr", "o'r", "um", "er", "erm", "well", "so", "thank", "you",
     "thanks", "love", "sorry", "it", "yes", "yeah", "right", "that's", "hello", "hi", "hiya",
     "x", "mine", "dob", "dyddiad", "geni", "fy", "diolch", "ym", "yn", "fawr", "plis", "wel",
     "nyddiad", "yw", "helo", "shwmae", "ganwyd", "fi", "ces", "cefais", "ngeni", "ei", "ddyddiad",
     "e", "sori", "dyma", "mhen-blwydd", "iawn"}
)  # fmt: skip


# Welsh numbers as said in a date, mutated forms included ("pedwerydd ar ddeg o Fawrth", "14 tri
# 56", "pum deg chwech"). They become numerals before the date is read, so the rest of the
# reading is the same for both languages. The words are Welsh only: none is an English word.
WELSH_UNITS = {
    "un": 1, "dau": 2, "ddau": 2, "dwy": 2, "ddwy": 2, "tri": 3, "dri": 3, "thri": 3, "tair": 3,
    "dair": 3, "pedwar": 4, "bedwar": 4, "pedair": 4, "bedair": 4, "pump": 5, "bump": 5,
    "pum": 5, "bum": 5, "chwech": 6, "chwe": 6, "saith": 7, "wyth": 8, "naw": 9,
}  # fmt: skip
_WELSH_ORDINAL_UNITS = {
    "cyntaf": 1, "ail": 2, "trydydd": 3, "drydydd": 3, "trydedd": 3, "pedwerydd": 4,
    "bedwerydd": 4, "pedwaredd": 4, "bedwaredd": 4, "pumed": 5, "bumed": 5, "chweched": 6,
    "seithfed": 7, "wythfed": 8, "nawfed": 9, "degfed": 10, "ddegfed": 10, "unfed": 1,
}  # fmt: skip
WELSH_PHRASES = {
    "deg": 10, "ddeg": 10, "un ar ddeg": 11, "deuddeg": 12, "ddeuddeg": 12, "tri ar ddeg": 13,
    "tair ar ddeg": 13, "pedwar ar ddeg": 14, "pedair ar ddeg": 14, "pymtheg": 15,
    "bymtheg": 15, "un ar bymtheg": 16, "dau ar bymtheg": 17, "dwy ar bymtheg": 17,
    "deunaw": 18, "ddeunaw": 18, "pedwar ar bymtheg": 19, "pedair ar bymtheg": 19, "ugain": 20,
    "hugain": 20, "deg ar hugain": 30, "un ar ddeg ar hugain": 31,
    "unfed ar ddeg": 11, "deuddegfed": 12, "trydydd ar ddeg": 13, "pedwerydd ar ddeg": 14,
    "pymthegfed": 15, "unfed ar bymtheg": 16, "ail ar bymtheg": 17, "deunawfed": 18,
    "pedwerydd ar bymtheg": 19, "ugeinfed": 20, "degfed ar hugain": 30,
    "unfed ar ddeg ar hugain": 31,
    **{f"{word} ar hugain": 20 + value for word, value in WELSH_UNITS.items()},
    **{f"{word} ar hugain": 20 + value for word, value in _WELSH_ORDINAL_UNITS.items()},
    **_WELSH_ORDINAL_UNITS,
    **WELSH_UNITS,
}  # fmt: skip
_WELSH_UNIT = "|".join(sorted(WELSH_UNITS, key=len, reverse=True))
# "pum deg chwech" (56), "tri deg un" (31): tens said as a unit and "deg".
_WELSH_DECIMAL = re.compile(
    rf"\b({_WELSH_UNIT}) d?deg(?: a)?(?: ({_WELSH_UNIT}))?\b(?! ar )", re.IGNORECASE
)


_WELSH_NUMBER = "|".join(sorted(WELSH_PHRASES, key=len, reverse=True))
_WELSH_PHRASE = re.compile(rf"\b({_WELSH_NUMBER})\b", re.IGNORECASE)
# "mil naw cant pum deg chwech" (1956), "dwy fil a thri" (2003).
_WELSH_YEAR = re.compile(
    rf"\b(mil naw cant|dwy fil)(?: a| ac)? ([0-9]{{1,2}}|{_WELSH_NUMBER})\b", re.IGNORECASE
)


def _welsh_value(word: str) -> int:
    return int(word) if word.isdigit() else WELSH_PHRASES[word.lower()]


def welsh_numerals(text: str) -> str:
    """Welsh number words in a date made numerals: "y pedwerydd ar ddeg o Fawrth" -> "y 14 o
    Fawrth". Decimal tens first, then a year said in thousands, then the longest phrase."""

    def decimal(match: re.Match[str]) -> str:
        tens = WELSH_UNITS[match.group(1).lower()] * 10
        return str(tens + (WELSH_UNITS[match.group(2).lower()] if match.group(2) else 0))

    def year(match: re.Match[str]) -> str:
        century = 1900 if match.group(1).lower().startswith("mil") else 2000
        return str(century + _welsh_value(match.group(2)))

    text = _WELSH_DECIMAL.sub(decimal, text)
    text = _WELSH_YEAR.sub(year, text)
    return _WELSH_PHRASE.sub(lambda match: str(_welsh_value(match.group(1))), text)


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
        plain = re.fullmatch(r"([0-9]+)(st|nd|rd|th|af|il|ydd|edd|ed|fed|eg|ain)?", word)
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


def _year(numbers: list[int], century_of: int | None) -> int | None:
    """A year said as one number (1956), as two halves (nineteen fifty six), or as two digits
    ("fifty six", "56") when ``century_of`` (the year on record) says which century is meant."""
    if len(numbers) == 1 and 1900 <= numbers[0] <= 2099:
        return numbers[0]
    if len(numbers) == 2 and numbers[0] in (19, 20) and 0 <= numbers[1] <= 99:
        return numbers[0] * 100 + numbers[1]
    if len(numbers) == 1 and 0 <= numbers[0] <= 99 and century_of is not None:
        return century_of // 100 * 100 + numbers[0]
    return None


# Digits said one at a time: "one seven oh five six one".
DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "one": "1", "two": "2", "to": "2",
    "too": "2", "three": "3", "four": "4", "for": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "ate": "8", "nine": "9",
}  # fmt: skip


def _from_digits(digits: str, *, year_only: bool, century_of: int | None) -> dt.date | int | None:
    """DDMMYYYY, or DDMMYY when the year on record gives the century."""
    if len(digits) == 6 and not year_only and century_of is not None:
        return _numeric(int(digits[:2]), int(digits[2:4]), [int(digits[4:])], century_of)
    return from_keypad(digits, year_only=year_only)


def _numeric(first: int, second: int, year: list[int], century_of: int | None) -> dt.date | None:
    """Day, month, year in numbers; month first ("5 17 61") is refused, not guessed."""
    if second > 12:
        return None
    birth_year = _year(year, century_of)
    return _date(birth_year, second, first) if birth_year is not None else None


# Words a slip is made good to: numbers and months in both languages, and the longer fillers
# ("gnawyd" is "ganwyd"), which are then dropped. Short words are never corrected.
_VOCABULARY = frozenset(
    word
    for word in (*MONTHS, *UNITS, *TEENS, *TENS, *ORDINALS, *FILLER, *WELSH_PHRASES)
    if " " not in word and len(word) >= 4
)


def _known(word: str) -> str:
    """A number or month word with one slip made good ("foutreenth"), when only one fits."""
    if word in _VOCABULARY or not word.isalpha():
        return word
    close = {known for known in _VOCABULARY if one_slip(word, known)}
    return close.pop() if len(close) == 1 else word


def from_text(text: str, *, year_only: bool, century_of: int | None = None) -> dt.date | int | None:
    """A date (or year) of birth from speech or a text message; ``None`` when unsure.

    Each sentence is also read on its own ("Sorry for the late reply. 14/3/56"); the answer is
    the one date found, and two different dates are refused.
    """
    text = welsh_numerals(" ".join(_known(word) for word in fold(text).split()))
    found = {
        value
        for part in [text, *re.split(r"(?<=[.!?])\s+|\n+", text)]
        if (value := _from_sentence(part, year_only=year_only, century_of=century_of)) is not None
    }
    return found.pop() if len(found) == 1 else None


def _from_sentence(
    text: str, *, year_only: bool, century_of: int | None = None
) -> dt.date | int | None:
    """A date (or year) of birth from speech or a text message; ``None`` when unsure.

    ``century_of`` is the year on record: with it a two-digit year is read in that century
    (without it a two-digit year is refused). Day and month in numbers are read day first, as
    the prompt asks; a month-first order ("5 17 1961") and anything else unclear is refused.
    """
    slashed = re.findall(
        r"(?<![0-9])([0-9]{1,2})[/.\- ]+([0-9]{1,2})[/.\- ]+([0-9]{2}|[0-9]{4})(?![0-9])", text
    )
    if slashed and not year_only:
        if len(slashed) != 1:
            return None  # two dates in one answer: which is meant is a guess
        day, month, year = (int(part) for part in slashed[0])
        return _numeric(day, month, [year], century_of if year < 100 else None)
    compact = re.sub(r"[\s/.\-]", "", text)
    if compact.isdigit():
        return _from_digits(compact, year_only=year_only, century_of=century_of)
    runs = re.findall(r"(?<![0-9])[0-9]{6,8}(?![0-9])", text)
    if len(runs) == 1 and not re.search(r"[0-9]", text.replace(runs[0], "")):
        return _from_digits(runs[0], year_only=year_only, century_of=century_of)
    words = [_known(word) for clause in clauses(text) for word in clause if word not in FILLER]
    if words[:1] == ["oh"] and len(words) > 1 and words[1] not in DIGIT_WORDS:
        words = words[1:]  # "oh, the fourteenth of March"
    spelt = [DIGIT_WORDS.get(word, word) for word in words]
    if len(spelt) >= 4 and all(re.fullmatch(r"[0-9]+", word) for word in spelt):
        digits = "".join(spelt)
        if len(digits) in (6, 8) or year_only:
            return _from_digits(digits, year_only=year_only, century_of=century_of)
    if year_only:
        numbers = _numbers(words)
        return _year(numbers, None) if numbers else None
    month_positions = [index for index, word in enumerate(words) if word in MONTHS]
    if not month_positions:
        numbers = _numbers(words)  # "14 three 56": day, month, year said as numbers
        if numbers and len(numbers) in (3, 4):
            return _numeric(numbers[0], numbers[1], numbers[2:], century_of)
        return None
    if len(month_positions) != 1:
        return None
    position = month_positions[0]
    before = _numbers(words[:position])
    after = _numbers(words[position + 1 :])
    if before is None or after is None:
        return None
    if len(before) == 1 and after:
        day, year_numbers = before[0], after  # "17th May 1961"
    elif not before and len(after) >= 2:
        day, year_numbers = after[0], after[1:]  # "May 17th 1961", "May seventeenth 1961"
    else:
        return None
    birth_year = _year(year_numbers, century_of)
    if birth_year is None:
        return None
    return _date(birth_year, MONTHS[words[position]], day)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
