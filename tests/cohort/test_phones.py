from __future__ import annotations

import phonenumbers
import pytest

from app import phones
from app.phones import PhoneError, PhoneKind, normalise_phone

# Awkward forms a PAS or a spreadsheet produces: prefixes, brackets, trunk zeros, extensions,
# short, long, foreign, premium, pager, drama ranges, junk.
CORPUS = [
    "07911 123456",
    "07911123456",
    "+447911123456",
    "+44 (0) 7911 123456",
    "0044 7911 123456",
    "44 7911 123456",
    "(07911) 123456",
    "07911-123-456",
    "07911.123.456",
    "07911 123456 ext 2",
    "0113 496 0000",
    "(0113) 496 0999",
    "01134960500",
    "+44 113 496 0123",
    "020 7946 0000",
    "(020) 7946 0999",
    "+44 20 7946 0123",
    "0161 496 0000",
    "028 9649 6000",
    "029 2018 0999",
    "01632 960000",
    "0191 498 0123",
    "07700 900000",
    "07700 900999",
    "+44 7700 900123",
    "07700 901000",
    "07700 9001234",
    "0770090012",
    "0800 123 4567",
    "0808 157 0000",
    "0909 879 0000",
    "0871 234 5678",
    "07624 123456",
    "07781 123456",
    "076 0012 3456",
    "0300 123 4567",
    "0345 678 9012",
    "056 1234 5678",
    "01onetwo",
    "abc",
    "",
    " ",
    "+",
    "=1+2",
    "0",
    "00",
    "999",
    "112",
    "+1 415 555 2671",
    "+353 1 234 5678",
    "+33 1 23 45 67 89",
    "0117 496 0000",
    "01223 123456",
    "015396 12345",
    "016977 4567",
    "0141 496 0000",
    "+44(0)1632 960123",
    "07400 123456",
    "07500 123456",
    "07300 123456",
    "07100 123456",
    "\u01c507911",
    "\uff10\uff17\uff19\uff11\uff11 123456",  # full-width digits
]


def outcome(text: str, backend: object) -> tuple[str, str, bool] | str:
    try:
        phone = normalise_phone(text, backend=backend)  # type: ignore[arg-type]
    except PhoneError as exc:
        return f"error: {exc}"
    return (phone.e164, phone.kind.value, phone.fictional)


@pytest.mark.skipif(phones.BACKEND is phonenumbers, reason="rphonenumbers not installed")
@pytest.mark.parametrize("text", CORPUS)
def test_the_fast_backend_answers_exactly_as_the_reference_library(text: str) -> None:
    assert outcome(text, phones.BACKEND) == outcome(text, phonenumbers)


@pytest.mark.parametrize(
    ("text", "e164", "kind"),
    [
        ("07700 900123", "+447700900123", PhoneKind.MOBILE),
        ("+44 7700 900000", "+447700900000", PhoneKind.MOBILE),
        ("0113 496 0999", "+441134960999", PhoneKind.LANDLINE),
        ("020 7946 0000", "+442079460000", PhoneKind.LANDLINE),
        ("(0161) 496 0000", "+441614960000", PhoneKind.LANDLINE),
    ],
)
def test_ofcom_drama_numbers_are_accepted_as_fictional(
    text: str, e164: str, kind: PhoneKind
) -> None:
    phone = normalise_phone(text)
    assert (phone.e164, phone.kind, phone.fictional) == (e164, kind, True)


def test_the_reference_library_itself_rejects_the_drama_mobile_range() -> None:
    number = phonenumbers.parse("07700 900123", "GB")
    assert not phonenumbers.is_valid_number(number)


def test_a_real_format_mobile_is_a_mobile_and_not_fictional() -> None:
    phone = normalise_phone("+44 (0) 7911 123456")
    assert (phone.e164, phone.kind, phone.fictional) == ("+447911123456", PhoneKind.MOBILE, False)


@pytest.mark.parametrize("text", ["0909 879 0000", "07700 9001234", "+1 415 555 2671", "abc"])
def test_numbers_a_patient_cannot_be_called_on_are_refused(text: str) -> None:
    with pytest.raises(PhoneError):
        normalise_phone(text)


def test_a_huge_phone_cell_is_refused_before_it_can_fill_the_cache() -> None:
    before = phones._normalise_cached.cache_info().currsize
    with pytest.raises(PhoneError, match="too long"):
        normalise_phone("0" * 60_000 + "7700 900001")
    assert phones._normalise_cached.cache_info().currsize == before
