"""Reading a date or year of birth from keys, speech and text; refusing what is unclear."""

from __future__ import annotations

import datetime as dt

import pytest

from app.flows.dates import from_keypad, from_text, welsh_numerals

BIRTHDAY = dt.date(1956, 3, 14)


@pytest.mark.parametrize(
    "text",
    [
        "14031956",
        "14/03/1956",
        "14.3.1956",
        "14 03 1956",
        "14th March 1956",
        "fourteenth of March 1956",
        "The 14th of march, nineteen fifty six",
        "fourteen march nineteen fifty-six",
        "14 Mawrth 1956",
        "my date of birth is the 14th of March 1956",
    ],
)
def test_it_reads_a_date_of_birth_said_or_typed_in_common_ways(text: str) -> None:
    assert from_text(text, year_only=False) == BIRTHDAY


@pytest.mark.parametrize(
    "text",
    ["14 3 56", "March 1956", "the fourteenth", "31st February 1956", "14 March 14 April 1956"],
)
def test_it_refuses_to_guess_an_incomplete_or_impossible_date(text: str) -> None:
    assert from_text(text, year_only=False) is None


def test_keypad_dates_are_ddmmyyyy_and_real() -> None:
    assert from_keypad("14031956", year_only=False) == BIRTHDAY
    assert from_keypad("31021956", year_only=False) is None
    assert from_keypad("1403195", year_only=False) is None


def test_years_can_be_keyed_or_said() -> None:
    assert from_keypad("1956", year_only=True) == 1956
    assert from_text("nineteen fifty six", year_only=True) == 1956
    assert from_text("1956", year_only=True) == 1956
    assert from_keypad("56", year_only=True) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("y pedwerydd ar ddeg o Fawrth 1956", BIRTHDAY),
        ("y pedwerydd ar ddeg o Fawrth mil naw cant pum deg chwech", BIRTHDAY),
        ("pedwar ar ddeg o Fawrth pum deg chwech", BIRTHDAY),
        ("14 tri 56", BIRTHDAY),
        ("ganwyd fi ar y 14eg o Fawrth 1956", BIRTHDAY),
        ("y pedwerdyd ar ddeg o Fawrth 1956", BIRTHDAY),  # a slip in the ordinal
        ("yr ail ar bymtheg o Fai 1961", dt.date(1961, 5, 17)),
        ("y trydydd ar hugain o Fedi 1961", dt.date(1961, 9, 23)),
        ("un ar ddeg ar hugain o Ragfyr 1949", dt.date(1949, 12, 31)),
        ("y degfed o Fedi dwy fil a thri", dt.date(2003, 9, 10)),
    ],
)
def test_welsh_numbers_in_a_date_of_birth_are_read(text: str, expected: dt.date) -> None:
    assert from_text(text, year_only=False, century_of=expected.year) == expected


def test_welsh_numbers_leave_english_answers_alone() -> None:
    assert welsh_numerals("the fourteenth of March nineteen fifty six") == (
        "the fourteenth of March nineteen fifty six"
    )
    assert from_text("y pedwerydd ar ddeg", year_only=False) is None  # no month, no year
    assert from_text("mil naw cant pum deg chwech", year_only=True) == 1956
