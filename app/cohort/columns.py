"""The cohort file's columns (see docs/cohort-csv.md) and how a header row maps onto them.

A header cell is matched after normalising its spelling (any case; spaces, underscores, hyphens
and brackets alike), first against a saved column mapping when the import has one, then against
our column names, then against the WLMDS and NHS Data Dictionary names in ``ALIASES``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
    "pathway_id_issuer",
    "referral_id",
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
    "priority_type",
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
DATE_COLUMNS = frozenset(
    {"date_of_birth", "clock_start_date", "last_validated_date", "date_of_death"}
)
# The columns whose presence keys a row the WLMDS way (issuer + PPI + referral + RTT start).
WLMDS_KEY_COLUMNS = frozenset({"pathway_id_issuer", "referral_id"})

# WLMDS and NHS Data Dictionary names (as normalised by ``normalise_name``) -> our column.
ALIASES: dict[str, str] = {
    "patient_pathway_identifier": "pathway_id",
    "organisation_code_patient_pathway_identifier_issuer": "pathway_id_issuer",
    "organisation_identifier_patient_pathway_identifier_issuer": "pathway_id_issuer",
    "referral_identifier": "referral_id",
    "person_given_name": "given_name",
    "person_family_name": "family_name",
    "person_birth_date": "date_of_birth",
    "person_death_date": "date_of_death",
    "person_stated_gender_code": "sex",
    "person_gender_code_current": "sex",
    "postcode_of_usual_address": "postcode",
    "ethnic_category_code": "ethnic_category",
    "organisation_code_code_of_provider": "provider_code",
    "organisation_identifier_code_of_provider": "provider_code",
    "local_patient_identifier_extended": "local_patient_id",
    "local_patient_identifier": "local_patient_id",
    "activity_treatment_function_code": "specialty_code",
    "treatment_function_code": "specialty_code",
    "referral_to_treatment_period_start_date": "clock_start_date",
    "priority_type_code": "priority_type",
    "language_code_preferred": "preferred_language",
    "preferred_spoken_language": "preferred_language",
    "index_of_multiple_deprivation_decile": "imd_decile",
    "mobile_telephone_number": "mobile_phone",
    "telephone_number": "landline_phone",
}

_SEPARATORS = re.compile(r"[\s_\-()./]+")


def normalise_name(cell: str) -> str:
    """``"Person Birth Date"``, ``"PERSON_BIRTH_DATE"`` and ``"person-birth-date"`` alike."""
    return _SEPARATORS.sub("_", cell.strip().lower()).strip("_")


def canonical_name(cell: str) -> str | None:
    """Our column for a header cell named as we or the WLMDS name it, else None."""
    name = normalise_name(cell)
    if name in KNOWN:
        return name
    return ALIASES.get(name)


class MissingColumnsError(InvalidInputError):
    """The header lacks a required column: the whole file is refused."""


@dataclass(frozen=True, slots=True)
class Header:
    """Where each known column sits in a row, and what else the header contained.

    ``mapping`` is every matched header cell, as written, with the column it fills: the import
    reports it so whoever reads the result sees which of their columns went where.
    """

    positions: dict[str, int]
    unknown: tuple[str, ...]
    mapping: dict[str, str]

    @property
    def wlmds_key(self) -> bool:
        """Rows are keyed the WLMDS way: the file has a PPI issuer or referral column."""
        return not WLMDS_KEY_COLUMNS.isdisjoint(self.positions)


class DuplicateColumnsError(InvalidInputError):
    """The header names a known column twice: which cell holds it would be a guess."""


_OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "bars"}


def match_header(cells: list[str], *, mapping: Mapping[str, str] | None = None) -> Header:
    """Match header cells onto our columns (``mapping`` first: normalised name -> column).

    A cell the mapping sends to ``""`` is not used, even when it bears one of our names.
    Refuses a header that lacks a required column or fills a column from two cells.
    """
    saved = mapping or {}
    positions: dict[str, int] = {}
    written: dict[str, str] = {}
    duplicated: list[str] = []
    unknown: list[str] = []
    for index, cell in enumerate(cells):
        label = cell.strip()
        key = normalise_name(label)
        name = saved[key] or None if key in saved else canonical_name(label)
        if name is None:
            if label and label not in unknown:
                unknown.append(label)
        elif name in positions:
            if name not in duplicated:
                duplicated.append(name)
        else:
            positions[name] = index
            written[name] = label
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
            + " (line 1; the first row of the file must name the columns"
            + ", or give a column mapping: waitlist import --suggest-mapping FILE proposes one)"
            + _delimiter_hint(cells)
        )
    ordered = sorted(positions, key=positions.__getitem__)
    return Header(
        positions=positions,
        unknown=tuple(unknown),
        mapping={written[name]: name for name in ordered},
    )


def _delimiter_hint(cells: list[str]) -> str:
    """Advice when the header looks separated by something other than commas."""
    if len(cells) == 1:
        for delimiter, name in _OTHER_DELIMITERS.items():
            if delimiter in cells[0] and "nhs_number" in cells[0].lower():
                return f"; the columns look separated by {name}: save as 'CSV (Comma delimited)'"
    return ""
