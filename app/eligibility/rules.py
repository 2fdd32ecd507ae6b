"""Exclusion rules as data: the YAML schema, its validation, and loading a rule set.

Each rule file holds one rule or a list of rules. A condition is one of a fixed set of
declarative tests (no expressions, no ``eval``); ``any_of`` combines them. A bad file fails the
load with the file, the rule and the problem.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.eligibility.flags import FLAGS
from app.errors import InvalidInputError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgeUnder(_Strict):
    """The patient is younger than ``years`` on the contact date."""

    kind: Literal["age_under"]
    years: int = Field(ge=1, le=130)


class AnyFlag(_Strict):
    """The pathway carries any of these flags from the extract."""

    kind: Literal["any_flag"]
    flags: list[str] = Field(min_length=1)

    @field_validator("flags")
    @classmethod
    def _known(cls, flags: list[str]) -> list[str]:
        unknown = sorted(set(flags) - FLAGS)
        if unknown:
            raise ValueError(f"unknown flag(s) {unknown}; known: {sorted(FLAGS)}")
        return flags


_ICD10_PREFIX = re.compile(r"[A-Z]\d{2}(\.[0-9X][0-9A-Z]{0,3})?")
_ICD10_RANGE = re.compile(r"([A-Z])(\d{2})-([A-Z])(\d{2})")


class DiagnosisCode(_Strict):
    """A diagnosis code matches: ICD-10 prefixes (``G30`` matches ``G30.1``), ranges or SNOMED."""

    kind: Literal["diagnosis_code"]
    icd10: list[str] = Field(default_factory=list)
    icd10_ranges: list[str] = Field(default_factory=list)
    snomed: list[str] = Field(default_factory=list)

    @field_validator("icd10")
    @classmethod
    def _icd10(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if not _ICD10_PREFIX.fullmatch(code):
                raise ValueError(f"{code!r} is not an ICD-10 code such as F03 or G31.0")
        return codes

    @field_validator("icd10_ranges")
    @classmethod
    def _ranges(cls, ranges: list[str]) -> list[str]:
        for entry in ranges:
            match = _ICD10_RANGE.fullmatch(entry)
            if not match or match[1] != match[3] or match[2] > match[4]:
                raise ValueError(f"{entry!r} is not an ICD-10 category range such as F00-F03")
        return ranges

    @field_validator("snomed")
    @classmethod
    def _snomed(cls, codes: list[str]) -> list[str]:
        for code in codes:
            if not (code.isdigit() and 6 <= len(code) <= 18):
                raise ValueError(f"{code!r} is not a SNOMED CT identifier (6-18 digits)")
        return codes


class FieldPresent(_Strict):
    """A date field is filled in (e.g. ``date_of_death``)."""

    kind: Literal["field_present"]
    field: Literal["date_of_death", "opted_out_at"]


class PhoneMissing(_Strict):
    """No usable number for the channel: ``any`` (neither mobile nor landline) or ``mobile``."""

    kind: Literal["phone_missing"]
    channel: Literal["any", "mobile"] = "any"


class OptedOut(_Strict):
    """The patient has opted out of automated contact (``patient.opted_out_at``)."""

    kind: Literal["opted_out"]


class ContactedWithin(_Strict):
    """A call or SMS reached the provider for this patient within the last ``days`` days."""

    kind: Literal["contacted_within"]
    days: int = Field(ge=1, le=365)


class InterpreterRequired(_Strict):
    """The patient needs an interpreter (``patient.interpreter_required``)."""

    kind: Literal["interpreter_required"]


Leaf = Annotated[
    AgeUnder
    | AnyFlag
    | DiagnosisCode
    | FieldPresent
    | PhoneMissing
    | OptedOut
    | ContactedWithin
    | InterpreterRequired,
    Field(discriminator="kind"),
]


class AnyOf(_Strict):
    """Any of the listed conditions (each that holds contributes to the reason)."""

    kind: Literal["any_of"]
    conditions: list[Leaf] = Field(min_length=1)


Condition = Annotated[Leaf | AnyOf, Field(discriminator="kind")]


class Rule(_Strict):
    """One exclusion rule, owned by a named clinician."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    description: str = Field(min_length=1)
    clinical_owner: str = Field(min_length=1)
    reason: str = Field(min_length=1, description="Shown to staff; may use {detail}.")
    condition: Condition
    # A patient this rule keeps from automated contact still needs validating by a person: the
    # worklist gets a task with this reason (``language``: interpreter; ``access``: adjustments).
    follow_up: Literal["language", "access"] | None = None


class RuleSet(_Strict):
    """The rules in force, with a hash that identifies exactly this set."""

    rules: tuple[Rule, ...]
    hash: str


class RuleFileError(InvalidInputError):
    """A rule file is unreadable or invalid; the message names file, rule and problem."""


def _rule_entries(path: Path) -> list[Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RuleFileError(f"{path}: cannot be read as YAML: {exc}") from exc
    if isinstance(document, dict) and "rules" in document:
        document = document["rules"]
    if isinstance(document, dict):
        return [document]
    if isinstance(document, list) and document:
        return document
    raise RuleFileError(f"{path}: expected a rule (a mapping) or a list of rules")


def load_rules(path: Path) -> RuleSet:
    """Load and validate every ``*.yaml`` rule in ``path`` (a directory or one file)."""
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise RuleFileError(f"{path}: no exclusion rule files (*.yaml) found")
    rules: list[Rule] = []
    seen: dict[str, Path] = {}
    for file in files:
        for index, entry in enumerate(_rule_entries(file), start=1):
            name = entry.get("id", f"#{index}") if isinstance(entry, dict) else f"#{index}"
            try:
                rule = Rule.model_validate(entry)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in error['loc']) or 'rule'}: {error['msg']}"
                    for error in exc.errors()
                )
                raise RuleFileError(f"{file}: rule {name}: {problems}") from exc
            if rule.id in seen:
                raise RuleFileError(
                    f"{file}: rule {rule.id}: the id is already used in {seen[rule.id]}"
                )
            seen[rule.id] = file
            rules.append(rule)
    canonical = json.dumps([rule.model_dump(mode="json") for rule in rules], sort_keys=True)
    return RuleSet(rules=tuple(rules), hash=hashlib.sha256(canonical.encode()).hexdigest())
