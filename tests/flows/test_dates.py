"""Reading a date or year of birth from keys, speech and text; refusing what is unclear."""

from __future__ import annotations

import datetime as dt

import pytest

from app.flows.dates import from_keypad, from_text

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
