"""The cohort file's columns (see docs/cohort-import.md) and how a header row maps onto them."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import InvalidInputError

REQUIRED = (
    "nhs_number",
    "pathway_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "specialty_code",
    "clock_start_date",
)
OPTIONAL = (
    "provider_code",
    "local_patient_id",
    "mobile_phone",
    "landline_phone",
    "sex",
    "postcode",
    "imd_decile",
    "ethnic_category",
    "preferred_language",
    "interpreter_required",
    "priority",
    "waiting_list_type",
    "specialty_name",
    "planned_procedure",
    "consultant_code",
    "site",
    "last_validated_date",
    "flags",
    "diagnosis_codes",
    "date_of_death",
)
KNOWN = REQUIRED + OPTIONAL


class MissingColumnsError(InvalidInputError):
    """The header lacks a required column: the whole file is refused."""


@dataclass(frozen=True, slots=True)
class Header:
    """Where each known column sits in a row, and what else the header contained."""

    positions: dict[str, int]
    unknown: tuple[str, ...]


class DuplicateColumnsError(InvalidInputError):
    """The header names a known column twice: which cell holds it would be a guess."""


_OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "bars"}


def match_header(cells: list[str]) -> Header:
    """Match header cells case-insensitively, ignoring surrounding spaces.

    Refuses a header that lacks a required column or names a known column twice.
    """
    positions: dict[str, int] = {}
    duplicated: list[str] = []
    unknown: list[str] = []
    for index, cell in enumerate(cells):
        name = cell.strip().lower()
        if name in positions:
            if name not in duplicated:
                duplicated.append(name)
        elif name in KNOWN:
            positions[name] = index
        elif name and cell.strip() not in unknown:
            unknown.append(cell.strip())
    if duplicated:
        raise DuplicateColumnsError(
            "the header row names column(s) more than once: "
            + ", ".join(duplicated)
            + " (line 1; keep one column of each name so no value is taken from the wrong one)"
        )
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise MissingColumnsError(
            "the header row lacks required column(s): "
            + ", ".join(missing)
            + " (line 1; the first row of the file must name the columns)"
            + _delimiter_hint(cells)
        )
    return Header(positions=positions, unknown=tuple(unknown))


def _delimiter_hint(cells: list[str]) -> str:
    """Advice when the header looks separated by something other than commas."""
    if len(cells) == 1:
        for delimiter, name in _OTHER_DELIMITERS.items():
            if delimiter in cells[0] and "nhs_number" in cells[0].lower():
                return f"; the columns look separated by {name}: save as 'CSV (Comma delimited)'"
    return ""
