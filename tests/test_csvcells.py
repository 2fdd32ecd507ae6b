"""The one CSV writer of every export: formulas made inert, numbers and text left as they are."""

from __future__ import annotations

import csv
import io

import pytest

from app.csvcells import FORMULA_TRIGGERS, SafeWriter, safe_cell
from app.phones import national_format


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_every_formula_trigger_at_the_start_of_a_cell_is_neutralised(trigger: str) -> None:
    assert safe_cell(f"{trigger}cmd|' /C calc'!A0") == f"'{trigger}cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("+447700900001", "'+447700900001"),
        ("-2+3", "'-2+3"),
        ("-", "'-"),
        ("-0.25", "-0.25"),  # a plain negative number is read as that number and nothing more
        ("-12", "-12"),
        (-3, -3),
        (0.5, 0.5),
        (None, ""),
        ("Patient declined", "Patient declined"),
        ("a=b", "a=b"),
    ],
)
def test_numbers_and_plain_text_pass_untouched(
    value: str | int | float | None, written: str | int | float
) -> None:
    assert safe_cell(value) == written


def test_the_writer_quotes_like_rfc_4180_and_reads_back() -> None:
    out = io.StringIO()
    SafeWriter(out).writerows([["name", "note"], ["O'Brien, Ada", '=1+1\n"two"']])
    assert out.getvalue().endswith("\r\n")
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["name", "note"],
        ["O'Brien, Ada", '\'=1+1\n"two"'],
    ]


@pytest.mark.parametrize(
    ("e164", "dialled"),
    [
        ("+447700900001", "07700 900001"),
        ("+441134960123", "0113 496 0123"),
        ("+442079460000", "020 7946 0000"),
        ("+441632960000", "01632 960000"),
    ],
)
def test_phones_for_people_are_text_a_spreadsheet_cannot_turn_into_a_number(
    e164: str, dialled: str
) -> None:
    assert national_format(e164) == dialled
    assert safe_cell(dialled) == dialled
