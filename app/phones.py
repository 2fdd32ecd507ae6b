"""UK phone numbers: normalised to E.164 and told apart as mobile or landline.

libphonenumber decides validity and type. The fast Rust port (``rphonenumbers``) is used when it
is installed; ``phonenumbers`` is the reference, and ``tests/cohort/test_phones.py`` proves the
two give the same answers over a corpus of awkward numbers. Ofcom's ranges reserved for TV and
radio drama are invalid to libphonenumber (no real person has them), so they are accepted here
explicitly: synthetic cohorts and tests use them and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from types import ModuleType

import phonenumbers

try:  # pragma: no cover - which branch runs depends on the installation
    import rphonenumbers as _fast
except ImportError:  # pragma: no cover
    _fast = None

BACKEND: ModuleType = _fast or phonenumbers


class PhoneKind(StrEnum):
    """What a number can do: a mobile takes SMS and calls, a landline calls only."""

    MOBILE = "mobile"
    LANDLINE = "landline"


@dataclass(frozen=True, slots=True)
class Phone:
    """A usable number in E.164 form."""

    e164: str
    kind: PhoneKind
    fictional: bool


class PhoneError(ValueError):
    """The text is not a usable UK phone number; the message says why."""


# Ofcom, "Telephone numbers for use in TV and radio drama programmes" (numbers that will never be
# allocated to a subscriber). E.164 prefix, then the number of digits that follow it.
DRAMA_RANGES: dict[str, tuple[str, PhoneKind]] = {
    "+447700900": ("mobile 07700 900000-900999", PhoneKind.MOBILE),
    "+441134960": ("Leeds 0113 496 0000-0999", PhoneKind.LANDLINE),
    "+441144960": ("Sheffield 0114 496 0000-0999", PhoneKind.LANDLINE),
    "+441154960": ("Nottingham 0115 496 0000-0999", PhoneKind.LANDLINE),
    "+441164960": ("Leicester 0116 496 0000-0999", PhoneKind.LANDLINE),
    "+441174960": ("Bristol 0117 496 0000-0999", PhoneKind.LANDLINE),
    "+441184960": ("Reading 0118 496 0000-0999", PhoneKind.LANDLINE),
    "+441214960": ("Birmingham 0121 496 0000-0999", PhoneKind.LANDLINE),
    "+441314960": ("Edinburgh 0131 496 0000-0999", PhoneKind.LANDLINE),
    "+441414960": ("Glasgow 0141 496 0000-0999", PhoneKind.LANDLINE),
    "+441514960": ("Liverpool 0151 496 0000-0999", PhoneKind.LANDLINE),
    "+441614960": ("Manchester 0161 496 0000-0999", PhoneKind.LANDLINE),
    "+441914980": ("Tyneside 0191 498 0000-0999", PhoneKind.LANDLINE),
    "+442079460": ("London 020 7946 0000-0999", PhoneKind.LANDLINE),
    "+442896496": ("Belfast 028 9649 6000-6999", PhoneKind.LANDLINE),
    "+442920180": ("Cardiff 029 2018 0000-0999", PhoneKind.LANDLINE),
    "+441632960": ("no area 01632 960000-960999", PhoneKind.LANDLINE),
}
MAX_PHONE_TEXT = 64  # the longest written form of a UK number, with spaces and "(0)", is ~25
_DRAMA_LENGTH = 13  # every range above is a UK number of 10 national digits: +44 and 10 digits


def drama_kind(e164: str) -> PhoneKind | None:
    """The kind of an Ofcom drama-range number, or None when ``e164`` is not one."""
    if len(e164) != _DRAMA_LENGTH:
        return None
    for prefix in (e164[:10], e164[:11]):
        entry = DRAMA_RANGES.get(prefix)
        if entry is not None:
            return entry[1]
    return None


def is_fictional(e164: str) -> bool:
    """True for Ofcom drama-range numbers: safe in tests, never to be rung for real."""
    return drama_kind(e164) is not None


def normalise_phone(text: str, *, backend: ModuleType | None = None) -> Phone:
    """Parse a UK number in any common form into E.164 with its kind, or raise PhoneError."""
    if len(text) > MAX_PHONE_TEXT:
        # Before the cache: 65,536 distinct huge cells would otherwise be kept in memory.
        raise PhoneError("is too long to be a phone number")
    if backend is None:
        return _normalise_cached(text)
    return _normalise(text, backend)


@lru_cache(maxsize=65536)
def _normalise_cached(text: str) -> Phone:
    # Bounded cache: a patient's number repeats across their pathways and successive extracts.
    return _normalise(text, BACKEND)


def _normalise(text: str, lib: ModuleType) -> Phone:
    try:
        number = lib.parse(text, "GB")
    except lib.NumberParseException as exc:
        raise PhoneError("is not a phone number") from exc
    e164: str = lib.format_number(number, lib.PhoneNumberFormat.E164)
    fictional = drama_kind(e164)
    if fictional is not None:
        return Phone(e164, fictional, fictional=True)
    if not lib.is_valid_number(number):
        raise PhoneError("is not a valid phone number")
    if number.country_code != 44:
        raise PhoneError("is not a UK phone number")
    number_type = lib.number_type(number)
    if number_type == lib.PhoneNumberType.MOBILE:
        return Phone(e164, PhoneKind.MOBILE, fictional=False)
    if number_type in (lib.PhoneNumberType.FIXED_LINE, lib.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return Phone(e164, PhoneKind.LANDLINE, fictional=False)
    if number_type in (lib.PhoneNumberType.UAN, lib.PhoneNumberType.VOIP):
        # 03 and 056 numbers ring like landlines.
        return Phone(e164, PhoneKind.LANDLINE, fictional=False)
    raise PhoneError("is not a number a patient can be called on (pager, premium or free-phone)")


def national_format(e164: str) -> str:
    """A stored number as UK staff dial it (``07700 900001``), for lists people read.

    Unlike ``+447700900001`` it is text to a spreadsheet: no leading ``+`` to run as a formula
    and turn into a number, and a space to keep its leading zero.
    """
    return str(
        phonenumbers.format_number(
            phonenumbers.parse(e164, "GB"), phonenumbers.PhoneNumberFormat.NATIONAL
        )
    )
