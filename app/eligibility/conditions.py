"""Evaluating a rule's condition against one pathway's facts: a detail string when it holds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from app.eligibility.rules import (
    AgeUnder,
    AnyFlag,
    AnyOf,
    ContactedWithin,
    DiagnosisCode,
    FieldPresent,
    InterpreterRequired,
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
    interpreter_required: bool = False


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


Check = Callable[[PathwayFacts, dt.date], str | None]


def compile_condition(condition: object) -> Check:
    """A function giving the detail of why ``condition`` holds for a pathway, or None.

    The dispatch on the condition's kind happens once here, not once per pathway.
    """
    match condition:
        case AgeUnder():
            return lambda facts, on_date: _age_under(condition, facts, on_date)
        case AnyFlag():
            return lambda facts, _on_date: _any_flag(condition, facts)
        case DiagnosisCode():
            return lambda facts, _on_date: _diagnosis(condition, facts)
        case FieldPresent():
            return lambda facts, _on_date: _field_present(condition, facts)
        case PhoneMissing():
            return lambda facts, _on_date: _phone_missing(condition, facts)
        case InterpreterRequired():
            return lambda facts, _on_date: (
                "recorded on the extract" if facts.interpreter_required else None
            )
        case OptedOut():
            return lambda facts, _on_date: (
                "opted out of automated contact" if facts.opted_out_at else None
            )
        case ContactedWithin():
            return lambda facts, on_date: _contacted_within(condition, facts, on_date)
        case AnyOf():
            parts = [compile_condition(part) for part in condition.conditions]

            def any_of(facts: PathwayFacts, on_date: dt.date) -> str | None:
                details = [detail for part in parts if (detail := part(facts, on_date))]
                return "; ".join(details) if details else None

            return any_of
    raise TypeError(f"unknown condition {condition!r}")


def compile_rule(rule: Rule) -> Callable[[PathwayFacts, dt.date], str | None]:
    """A function giving the human-readable reason ``rule`` excludes a pathway, or None."""
    check = compile_condition(rule.condition)
    template = rule.reason

    def reason(facts: PathwayFacts, on_date: dt.date) -> str | None:
        detail = check(facts, on_date)
        if detail is None:
            return None
        # str.replace, not str.format: rule text must never reach attribute lookups.
        return template.replace("{detail}", detail)[:500]

    return reason
