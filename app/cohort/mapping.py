"""Saved column mappings: which column of a trust's own extract fills which of ours.

A mapping is a small YAML file per source (a Lorenzo PTL report, a Cerner extract), kept beside
the extract job and passed with ``waitlist import FILE --mapping lorenzo.yaml``::

    name: Lorenzo PTL report
    sheet: PTL            # optional: the workbook sheet to read
    columns:
      NHS No: nhs_number
      Pathway ID: pathway_id
      Site: null          # not used, although it is one of our names

Header cells are matched with the same normalising as our own names (any case, spaces or
underscores). ``suggest_mapping`` proposes one from a header, for a person to confirm.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from app.cohort.columns import ALIASES, KNOWN, REQUIRED, canonical_name, normalise_name
from app.errors import InvalidInputError

MAPPING_FILE_LIMIT = 64 * 1024
# difflib ratio a header cell must reach to be suggested for a column: "Forename" ~ "forenames"
# yes, "Site" ~ "sex" no. Suggestions are only ever proposals a person confirms.
SUGGEST_CUTOFF = 0.72


# Headings PAS reports often use, for suggestions only: an import never takes them unconfirmed.
COMMON_NAMES: dict[str, str] = {
    "nhs_no": "nhs_number",
    "nhsno": "nhs_number",
    "pathway": "pathway_id",
    "pathway_number": "pathway_id",
    "ppi": "pathway_id",
    "forename": "given_name",
    "first_name": "given_name",
    "surname": "family_name",
    "last_name": "family_name",
    "dob": "date_of_birth",
    "birth_date": "date_of_birth",
    "tfc": "specialty_code",
    "treatment_function": "specialty_code",
    "specialty": "specialty_name",
    "rtt_start": "clock_start_date",
    "rtt_start_date": "clock_start_date",
    "clock_start": "clock_start_date",
    "referral_date": "clock_start_date",
    "mobile": "mobile_phone",
    "mobile_number": "mobile_phone",
    "home_phone": "landline_phone",
    "home_telephone": "landline_phone",
    "hospital_number": "local_patient_id",
    "mrn": "local_patient_id",
    "gender": "sex",
    "post_code": "postcode",
    "consultant": "consultant_code",
    "clinical_priority": "priority",
    "surgical_priority": "priority",
    "procedure": "planned_procedure",
    "language": "preferred_language",
    "interpreter": "interpreter_required",
    "date_of_death": "date_of_death",
    "dod": "date_of_death",
    "provider": "provider_code",
    "trust_code": "provider_code",
    "referral_id": "referral_id",
    "referral_number": "referral_id",
}


class MappingError(InvalidInputError):
    """A mapping file that cannot be used as written; the message names the line or column."""


@dataclass(frozen=True)
class ColumnMapping:
    """Header text as the source writes it -> our column, with the source's name and sheet."""

    columns: dict[str, str]
    name: str | None = None
    sheet: str | None = None
    ignored: tuple[str, ...] = ()

    def lookup(self) -> dict[str, str]:
        """Normalised header name -> column (``""``: not used), as ``match_header`` takes it."""
        found = {normalise_name(header): "" for header in self.ignored}
        return found | {normalise_name(header): column for header, column in self.columns.items()}

    def as_yaml(self) -> str:
        """The mapping as a file to save and pass with ``--mapping``."""
        document: dict[str, Any] = {}
        if self.name:
            document["name"] = self.name
        if self.sheet:
            document["sheet"] = self.sheet
        document["columns"] = dict(self.columns) | dict.fromkeys(self.ignored)
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def parse_mapping(text: str, *, default_name: str | None = None) -> ColumnMapping:
    """A mapping from YAML text; raises MappingError saying what is wrong."""
    if len(text) > MAPPING_FILE_LIMIT:
        raise MappingError(f"the mapping is longer than {MAPPING_FILE_LIMIT:,} characters")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(f"the mapping is not valid YAML ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("columns"), dict):
        raise MappingError("the mapping needs a 'columns:' section of 'their header: our column'")
    unexpected = sorted(set(document) - {"name", "sheet", "columns"})
    if unexpected:
        raise MappingError(f"the mapping has unknown key(s): {', '.join(map(str, unexpected))}")
    name, sheet = document.get("name", default_name), document.get("sheet")
    for key, value in (("name", name), ("sheet", sheet)):
        if value is not None and not isinstance(value, str):
            raise MappingError(f"the mapping's {key} must be text")
    raw = document["columns"]
    ignored = tuple(str(header).strip() for header, column in raw.items() if column is None)
    columns = _columns({header: column for header, column in raw.items() if column is not None})
    _check_ignored(columns, ignored)
    return ColumnMapping(columns=columns, name=name, sheet=sheet, ignored=ignored)


def load_mapping(path: Path) -> ColumnMapping:
    """The mapping saved in ``path`` (its file name is its name unless it gives one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"the mapping file {path.name} cannot be read ({exc})") from exc
    return parse_mapping(text, default_name=path.name)


def mapping_from_pairs(pairs: list[tuple[str, str]], *, name: str | None = None) -> ColumnMapping:
    """A mapping confirmed by a person as (header, column) pairs; an empty column is unused."""
    columns = _columns({header: column for header, column in pairs if column.strip()})
    ignored = tuple(header.strip() for header, column in pairs if not column.strip())
    _check_ignored(columns, ignored)
    return ColumnMapping(columns=columns, name=name, ignored=ignored)


def _check_ignored(columns: dict[str, str], ignored: tuple[str, ...]) -> None:
    mapped = {normalise_name(header) for header in columns}
    for header in ignored:
        if not header or normalise_name(header) in mapped:
            raise MappingError(f"the mapping names the header {header!r} twice")


def _columns(raw: Mapping[Any, Any]) -> dict[str, str]:
    columns: dict[str, str] = {}
    filled: dict[str, str] = {}
    seen: set[str] = set()
    for header, column in raw.items():
        if not isinstance(header, str | int) or not str(header).strip():
            raise MappingError(f"the mapping has an empty or invalid header name: {header!r}")
        if not isinstance(column, str) or column not in KNOWN:
            raise MappingError(
                f"{header!r} is mapped to {column!r}, which is not one of our columns "
                f"(they are: {', '.join(KNOWN)})"
            )
        label = str(header).strip()
        if normalise_name(label) in seen:
            raise MappingError(f"the mapping names the header {label!r} twice")
        if column in filled:
            raise MappingError(
                f"{filled[column]!r} and {label!r} are both mapped to {column}; map one of them"
            )
        seen.add(normalise_name(label))
        filled[column] = label
        columns[label] = column
    return columns


@dataclass(frozen=True)
class Suggestion:
    """A proposed mapping for a header, with what it could not place."""

    mapping: ColumnMapping
    unmatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def suggest_mapping(header: list[str], *, name: str | None = None) -> Suggestion:
    """Propose a mapping: exact names and aliases first, then the closest spelling.

    A column is proposed for at most one header cell; ``missing`` lists the required columns
    nothing was found for, so a person sees at once what the extract lacks.
    """
    choices = {column: column for column in KNOWN} | dict(ALIASES) | COMMON_NAMES
    taken: set[str] = set()
    proposed: dict[int, str] = {}
    for index, cell in enumerate(header):
        column = canonical_name(cell) or COMMON_NAMES.get(normalise_name(cell))
        if column and column not in taken:
            proposed[index] = column
            taken.add(column)
    for index, cell in enumerate(header):
        if index in proposed or not cell.strip():
            continue
        candidates = difflib.get_close_matches(
            normalise_name(cell), list(choices), n=5, cutoff=SUGGEST_CUTOFF
        )
        for candidate in candidates:
            if choices[candidate] not in taken:
                proposed[index] = choices[candidate]
                taken.add(choices[candidate])
                break
    columns = {header[index].strip(): proposed[index] for index in sorted(proposed)}
    unmatched = [cell.strip() for index, cell in enumerate(header) if index not in proposed]
    return Suggestion(
        mapping=ColumnMapping(columns=columns, name=name),
        unmatched=[cell for cell in unmatched if cell],
        missing=[column for column in REQUIRED if column not in taken],
    )
