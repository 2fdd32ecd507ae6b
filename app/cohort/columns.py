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


def match_header(cells: list[str]) -> Header:
    """Match header cells case-insensitively, ignoring surrounding spaces; refuse missing ones."""
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for index, cell in enumerate(cells):
        name = cell.strip().lower()
        if name in KNOWN and name not in positions:
            positions[name] = index
        elif name:
            unknown.append(cell.strip())
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise MissingColumnsError(
            "the header row lacks required column(s): "
            + ", ".join(missing)
            + " (line 1; the first row of the file must name the columns)"
        )
    return Header(positions=positions, unknown=tuple(unknown))
