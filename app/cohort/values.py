"""Parsers for single cells: each returns the normalised value or raises CellError."""

from __future__ import annotations

import datetime as dt
import re

from nhs_number.standardise import standardise_format
from nhs_number.validate import is_valid

from app.csvcells import FORMULA_TRIGGERS


class CellError(ValueError):
    """A cell's value is not acceptable; the message completes "<column> ..."."""


# Line breaks, tabs and other C0/C1 controls, line and paragraph separators, and the bidi
# embedding, override and isolate controls (which can make a name display as another).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# What a spreadsheet writes for a whole number it holds as a decimal: "5", "5.0", "5.00".
_WHOLE_NUMBER = re.compile(r"([0-9]{1,3})(?:\.0+)?")

FLAGS = frozenset(
    {
        "dementia",
        "cognitive_impairment",
        "learning_disability",
        "safeguarding",
        "deceased",
        "cancer_pathway",
        "lacks_capacity",
        "no_automated_contact",
        "reasonable_adjustment",
    }
)
_UK_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_ICD10 = re.compile(r"([A-Z]\d{2})(?:\.?([0-9X][0-9A-Z]{0,3}))?")
_SNOMED = re.compile(r"\d{6,18}")
_POSTCODE = re.compile(r"([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})")
_PROVIDER = re.compile(r"[A-Z0-9]{3,12}")


def text(value: str, *, limit: int) -> str:
    """Free text that is safe to show and to export: bounded, and never a spreadsheet formula."""
    if len(value) > limit:
        raise CellError(f"is longer than {limit} characters")
    if value.startswith(FORMULA_TRIGGERS):
        raise CellError(
            f"starts with {value[0]!r}, which a spreadsheet would run as a formula; "
            "remove that character"
        )
    control = _CONTROL.search(value)
    if control:
        raise CellError(
            f"contains a line break or other control character (U+{ord(control[0]):04X}); remove it"
        )
    return value


def nhs_number(value: str) -> str:
    """Ten digits (spaces or dashes allowed between groups) with a valid Modulus 11 check digit."""
    # The plain ten-digit form is by far the most common; anything else goes to the library.
    plain = len(value) == 10 and value.isascii() and value.isdigit()
    digits = value if plain else standardise_format(value)
    if not digits or not digits.isascii():
        raise CellError("must be 10 digits, e.g. 999 000 0018")
    if not is_valid(digits):
        raise CellError("is not a valid NHS number (its check digit is wrong)")
    return str(digits)


def date(value: str, *, today: dt.date) -> dt.date:
    """``YYYY-MM-DD`` or ``DD/MM/YYYY`` (UK order only), a real date, not in the future."""
    if len(value) == 10 and value[4] == value[7] == "-":
        match = _ISO_DATE.fullmatch(value)
        if not match:
            raise CellError(f"{value!r} is not a date in the form YYYY-MM-DD or DD/MM/YYYY")
        year, month, day = int(value[:4]), int(value[5:7]), int(value[8:])
    else:
        match = _UK_DATE.fullmatch(value)
        if not match:
            raise CellError(f"{value!r} is not a date in the form YYYY-MM-DD or DD/MM/YYYY")
        day, month, year = (int(part) for part in match.groups())
    try:
        parsed = dt.date(year, month, day)
    except ValueError as exc:
        hint = " (dates are day first: DD/MM/YYYY)" if "/" in value and month > 12 else ""
        raise CellError(f"{value!r} is not a real date{hint}") from exc
    if parsed > today:
        raise CellError(f"{value!r} is in the future")
    if parsed.year < 1880:
        raise CellError(f"{value!r} is implausibly early")
    return parsed


def specialty_code(value: str) -> str:
    """A three-digit treatment function code."""
    if len(value) != 3 or not value.isdigit():
        raise CellError("must be a 3-digit treatment function code, e.g. 110")
    return value


def provider_code(value: str) -> str:
    """An ODS organisation code."""
    code = value.upper()
    if not _PROVIDER.fullmatch(code):
        raise CellError("must be an ODS code of 3 to 12 letters and digits, e.g. RXN")
    return code


def sex(value: str) -> str:
    """NHS Data Dictionary person stated gender code: 1, 2, 9 or X (0 accepted as not known)."""
    code = value.upper()
    if code not in {"0", "1", "2", "9", "X"}:
        raise CellError("must be a person stated gender code: 1, 2, 9 or X")
    return code


def postcode(value: str) -> str:
    """A UK postcode, upper case with one space before the inward code."""
    match = _POSTCODE.fullmatch(value.upper())
    if not match:
        raise CellError(f"{value!r} is not a UK postcode")
    return f"{match[1]} {match[2]}"


def imd_decile(value: str) -> int:
    """1 (most deprived) to 10; ``5.0`` is 5, as a spreadsheet may write it, but ``5.5`` is not."""
    match = _WHOLE_NUMBER.fullmatch(value)
    if not match or not 1 <= int(match[1]) <= 10:
        raise CellError("must be a whole number from 1 to 10")
    return int(match[1])


def ethnic_category(value: str) -> str:
    """One letter A-Z (NHS ethnic category), or 99 for not known."""
    code = value.upper()
    if not ((len(code) == 1 and "A" <= code <= "Z") or code == "99"):
        raise CellError("must be an NHS ethnic category code (one letter A-Z, or 99)")
    return code


def language(value: str) -> str:
    """An ISO 639-1 code, e.g. en, cy, pl."""
    code = value.lower()
    if len(code) != 2 or not code.isalpha() or not code.isascii():
        raise CellError("must be a two-letter ISO 639-1 language code, e.g. en or cy")
    return code


def yes_no(value: str) -> bool:
    """``Y`` or ``N``."""
    answer = value.upper()
    if answer not in {"Y", "N"}:
        raise CellError("must be Y or N")
    return answer == "Y"


def priority(value: str) -> str:
    """Surgical priority ``P1`` to ``P6``."""
    code = value.upper()
    if len(code) != 2 or code[0] != "P" or code[1] not in "123456":
        raise CellError("must be a surgical priority from P1 to P6")
    return code


def waiting_list_type(value: str) -> str:
    """``ORTT``, ``IRTT``, ``ONON`` or ``INON``."""
    code = value.upper()
    if code not in {"ORTT", "IRTT", "ONON", "INON"}:
        raise CellError("must be one of ORTT, IRTT, ONON, INON")
    return code


def flags(value: str) -> list[str]:
    """``;``-separated known flags; an unknown one is refused (a misspelt flag must not vanish)."""
    found = sorted({part.strip().lower() for part in value.split(";") if part.strip()})
    unknown = [flag for flag in found if flag not in FLAGS]
    if unknown:
        raise CellError(
            f"has unknown flag(s) {', '.join(unknown)}; known flags: {', '.join(sorted(FLAGS))}"
        )
    return found


def diagnosis_codes(value: str) -> list[str]:
    """``;``-separated ICD-10 codes (normalised to ``F03.90`` form) or SNOMED CT identifiers."""
    codes: list[str] = []
    for part in value.split(";"):
        code = part.strip().upper()
        if not code:
            continue
        if _SNOMED.fullmatch(code):
            codes.append(code)
            continue
        match = _ICD10.fullmatch(code)
        if not match:
            raise CellError(
                f"{part.strip()!r} is neither an ICD-10 code nor a SNOMED CT identifier"
            )
        category, suffix = match.groups()
        codes.append(f"{category}.{suffix}" if suffix else category)
    return sorted(set(codes))
