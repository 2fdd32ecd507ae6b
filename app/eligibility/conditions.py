"""Evaluating a rule's condition against one pathway's facts: a detail string when it holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.eligibility.rules import (
    AgeUnder,
    AnyFlag,
    AnyOf,
    ContactedWithin,
    DiagnosisCode,
    FieldPresent,
    OptedOut,
    PhoneMissing,
    Rule,
)


@dataclass(frozen=True, slots=True)
class PathwayFacts:
    """What the rules may look at for one pathway and its patient."""

    pathway_id: int
    date_of_birth: dt.date
    date_of_death: dt.date | None
    flags: tuple[str, ...]
    diagnosis_codes: tuple[str, ...]
    mobile_phone: str | None
    landline_phone: str | None
    opted_out_at: dt.datetime | None
    last_contact_at: dt.datetime | None


def birthday(born: dt.date, years: int) -> dt.date:
    """The date someone born on ``born`` reaches ``years``; 29 February counts from 1 March."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return dt.date(born.year + years, 3, 1)


def _age_under(condition: AgeUnder, facts: PathwayFacts, on_date: dt.date) -> str | None:
    turns = birthday(facts.date_of_birth, condition.years)
    if on_date < turns:
        return (
            f"under {condition.years} on {on_date.isoformat()}"
            f" (turns {condition.years} on {turns.isoformat()})"
        )
    return None


def _any_flag(condition: AnyFlag, facts: PathwayFacts) -> str | None:
    found = [flag for flag in condition.flags if flag in facts.flags]
    return f"flagged {', '.join(found)}" if found else None


def icd10_matches(code: str, prefix: str) -> bool:
    """``G30`` matches ``G30`` and ``G30.1``; ``G31.0`` matches ``G31.0`` and ``G31.01``."""
    return code == prefix or code.startswith(prefix if "." in prefix else prefix + ".")


def _in_range(code: str, entry: str) -> bool:
    first, last = entry.split("-")
    category = code.split(".", 1)[0]
    return len(category) == 3 and category[0] == first[0] and first <= category <= last


def _diagnosis(condition: DiagnosisCode, facts: PathwayFacts) -> str | None:
    found = [
        code
        for code in facts.diagnosis_codes
        if code in condition.snomed
        or any(icd10_matches(code, prefix) for prefix in condition.icd10)
        or any(_in_range(code, entry) for entry in condition.icd10_ranges)
    ]
    return f"diagnosis code {', '.join(found)}" if found else None


def _field_present(condition: FieldPresent, facts: PathwayFacts) -> str | None:
    value = getattr(facts, condition.field)
    if value is None:
        return None
    shown = value.date() if isinstance(value, dt.datetime) else value
    return f"{condition.field.replace('_', ' ')} {shown.isoformat()}"


def _phone_missing(condition: PhoneMissing, facts: PathwayFacts) -> str | None:
    if condition.channel == "mobile":
        return None if facts.mobile_phone else "no usable mobile number"
    if facts.mobile_phone or facts.landline_phone:
        return None
    return "no usable phone number"


def _contacted_within(
    condition: ContactedWithin, facts: PathwayFacts, on_date: dt.date
) -> str | None:
    if facts.last_contact_at is None:
        return None
    last = facts.last_contact_at.date()
    if (on_date - last).days < condition.days:
        return f"last contacted on {last.isoformat()}, within {condition.days} days"
    return None


def check(condition: object, facts: PathwayFacts, on_date: dt.date) -> str | None:
    """The detail of why ``condition`` holds for ``facts``, or None when it does not."""
    match condition:
        case AgeUnder():
            return _age_under(condition, facts, on_date)
        case AnyFlag():
            return _any_flag(condition, facts)
        case DiagnosisCode():
            return _diagnosis(condition, facts)
        case FieldPresent():
            return _field_present(condition, facts)
        case PhoneMissing():
            return _phone_missing(condition, facts)
        case OptedOut():
            return "opted out of automated contact" if facts.opted_out_at else None
        case ContactedWithin():
            return _contacted_within(condition, facts, on_date)
        case AnyOf():
            details = [d for c in condition.conditions if (d := check(c, facts, on_date))]
            return "; ".join(details) if details else None
    raise TypeError(f"unknown condition {condition!r}")


def reason_for(rule: Rule, facts: PathwayFacts, on_date: dt.date) -> str | None:
    """The human-readable reason ``rule`` excludes this pathway, or None."""
    detail = check(rule.condition, facts, on_date)
    if detail is None:
        return None
    # str.replace, not str.format: rule text must never reach attribute lookups.
    return rule.reason.replace("{detail}", detail)[:500]
