"""One CSV row -> a validated cohort row, or the reasons it was rejected."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from app.cohort import values
from app.cohort.columns import DATE_COLUMNS, REQUIRED, Header
from app.phones import PhoneError, PhoneKind, normalise_phone


@dataclass(frozen=True, slots=True)
class RowError:
    """Why a row was rejected: ``line`` is the row number a spreadsheet shows (header = 1)."""

    line: int
    column: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The ``{line, column, message}`` shape of the CLI and API."""
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass(frozen=True, slots=True)
class CohortRow:
    """A valid row, normalised; ``row_hash`` tells an unchanged row from an updated one."""

    line: int
    nhs_number: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    date_of_death: dt.date | None
    sex: str | None
    postcode: str | None
    imd_decile: int | None
    ethnic_category: str | None
    preferred_language: str
    interpreter_required: bool
    mobile_phone: str | None
    landline_phone: str | None
    provider_code: str
    pathway_id: str
    local_patient_id: str | None
    specialty_code: str
    specialty_name: str | None
    clock_start_date: dt.date
    priority: str | None
    waiting_list_type: str | None
    planned_procedure: str | None
    consultant_code: str | None
    site: str | None
    last_validated_date: dt.date | None
    flags: list[str]
    diagnosis_codes: list[str]
    row_hash: str


def _limited(limit: int) -> Callable[[str], str]:
    # A partial, not a lambda: the validator is pickled to the import's worker processes.
    return partial(values.text, limit=limit)


# Column -> parser for the cells whose parser needs nothing but the cell.
_SIMPLE: dict[str, Callable[[str], Any]] = {
    "nhs_number": values.nhs_number,
    "pathway_id": _limited(64),
    "given_name": _limited(100),
    "family_name": _limited(100),
    "specialty_code": values.specialty_code,
    "provider_code": values.provider_code,
    "pathway_id_issuer": values.provider_code,
    "referral_id": _limited(20),
    "local_patient_id": _limited(32),
    "sex": values.sex,
    "postcode": values.postcode,
    "imd_decile": values.imd_decile,
    "ethnic_category": values.ethnic_category,
    "preferred_language": values.language,
    "interpreter_required": values.yes_no,
    "priority": values.priority,
    "priority_type": values.priority_type,
    "waiting_list_type": values.waiting_list_type,
    "specialty_name": _limited(100),
    "planned_procedure": _limited(200),
    "consultant_code": _limited(16),
    "site": _limited(64),
    "flags": values.flags,
    "diagnosis_codes": values.diagnosis_codes,
}
# A two week wait referral is an urgent suspected cancer pathway: protected like one.
_CANCER_PRIORITY_TYPE = "3"
PATHWAY_ID_LIMIT = 64


@dataclass(slots=True)
class CheckedChunk:
    """A chunk of numbered rows after validation: its valid rows and its errors, in line order."""

    rows: int
    valid: list[CohortRow]
    errors: list[RowError]
    rejected: int


class RowValidator:
    """Validates the rows of one file against its header (positions are looked up once).

    It holds only picklable parsers, so a pool of processes can validate chunks with it.
    """

    def __init__(self, header: Header, *, today: dt.date, default_provider_code: str) -> None:
        self.today = today
        self.default_provider_code = default_provider_code
        parsers: dict[str, Callable[[str], Any]] = {
            **_SIMPLE,
            **{name: partial(values.date, today=today) for name in DATE_COLUMNS},
            # Phones are sorted by kind after the loop (a landline may come as mobile_phone).
            "mobile_phone": str,
            "landline_phone": str,
        }
        self.columns = [(name, index, parsers[name]) for name, index in header.positions.items()]
        self.width = max(header.positions.values()) + 1
        self.wlmds_key = header.wlmds_key

    def check(self, chunk: list[tuple[int, list[str] | RowError]]) -> CheckedChunk:
        """Validate a chunk of ``(line, cells)``; a RowError in place of cells (the reader
        already refused that row) is passed on as it is."""
        valid: list[CohortRow] = []
        errors: list[RowError] = []
        rejected = 0
        for line, cells in chunk:
            result = cells if isinstance(cells, RowError) else self.validate(cells, line)
            if isinstance(result, CohortRow):
                valid.append(result)
                continue
            rejected += 1
            if isinstance(result, RowError):
                errors.append(result)
            else:
                errors.extend(result)
        return CheckedChunk(len(chunk), valid, errors, rejected)

    def validate(self, cells: list[str], line: int) -> CohortRow | list[RowError]:
        """The normalised row, or every problem found in it (one per column)."""
        if len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        parsed: dict[str, Any] = {}
        errors: list[RowError] = []
        for name, index, parser in self.columns:
            raw = cells[index].strip()
            if not raw:
                continue
            try:
                parsed[name] = parser(raw)
            except values.CellError as exc:
                errors.append(RowError(line, name, f"{name} {exc}"))
        for name in REQUIRED:
            if name not in parsed and not any(error.column == name for error in errors):
                errors.append(RowError(line, name, f"{name} is required but empty"))
        birth, death = parsed.get("date_of_birth"), parsed.get("date_of_death")
        if birth and death and death < birth:
            errors.append(RowError(line, "date_of_death", "date_of_death is before date_of_birth"))
        if self.wlmds_key and not errors:
            key = self._wlmds_key(parsed, line)
            if isinstance(key, RowError):
                errors.append(key)
            else:
                parsed["pathway_id"] = key
        if errors:
            return errors
        flags = parsed.get("flags", [])
        if parsed.get("priority_type") == _CANCER_PRIORITY_TYPE and "cancer_pathway" not in flags:
            flags = sorted([*flags, "cancer_pathway"])
        mobile, landline = self._phones(parsed.get("mobile_phone"), parsed.get("landline_phone"))
        fields = (
            parsed["nhs_number"],
            parsed["given_name"],
            parsed["family_name"],
            parsed["date_of_birth"],
            death,
            parsed.get("sex"),
            parsed.get("postcode"),
            parsed.get("imd_decile"),
            parsed.get("ethnic_category"),
            parsed.get("preferred_language", "en"),
            parsed.get("interpreter_required", False),
            mobile,
            landline,
            parsed.get("provider_code", self.default_provider_code),
            parsed["pathway_id"],
            parsed.get("local_patient_id"),
            parsed["specialty_code"],
            parsed.get("specialty_name"),
            parsed["clock_start_date"],
            parsed.get("priority"),
            parsed.get("waiting_list_type"),
            parsed.get("planned_procedure"),
            parsed.get("consultant_code"),
            parsed.get("site"),
            parsed.get("last_validated_date"),
            flags,
            parsed.get("diagnosis_codes", []),
        )
        digest = hashlib.sha256("\x1f".join(map(str, fields)).encode()).hexdigest()
        return CohortRow(line, *fields, row_hash=digest)

    def _wlmds_key(self, parsed: dict[str, Any], line: int) -> str | RowError:
        """The WLMDS pathway key: PPI issuer, PPI, referral identifier and RTT period start.

        The issuer defaults to the row's provider. Written ``ISSUER:PPI:REFERRAL:YYYY-MM-DD``
        into ``pathway_id``, so a patient pathway's successive RTT periods are separate rows
        and the export back to the PAS carries every part of the key.
        """
        issuer = parsed.get("pathway_id_issuer") or parsed.get(
            "provider_code", self.default_provider_code
        )
        ppi, referral = parsed["pathway_id"], parsed.get("referral_id", "")
        for name, part in (("pathway_id", ppi), ("referral_id", referral)):
            if ":" in part:
                return RowError(line, name, f"{name} contains ':', which separates the key parts")
        key = f"{issuer}:{ppi}:{referral}:{parsed['clock_start_date'].isoformat()}"
        if len(key) > PATHWAY_ID_LIMIT:
            return RowError(
                line,
                "pathway_id",
                f"pathway_id with its issuer, referral and RTT start is longer than "
                f"{PATHWAY_ID_LIMIT} characters",
            )
        return key

    @staticmethod
    def _phones(*cells: str | None) -> tuple[str | None, str | None]:
        """Sort the given numbers by what they are, not by the column they came in.

        A number that is not usable is dropped rather than rejecting the row: the pathway is
        still imported (so it stays visible and is closed correctly later) and the no-phone rule
        then excludes it with a reason.
        """
        mobile: str | None = None
        landline: str | None = None
        for cell in cells:
            if not cell:
                continue
            try:
                phone = normalise_phone(cell)
            except PhoneError:
                continue
            if phone.kind is PhoneKind.MOBILE:
                mobile = mobile or phone.e164
            else:
                landline = landline or phone.e164
        return mobile, landline
