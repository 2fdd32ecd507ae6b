"""A campaign report as plain JSON data and as CSV rows (suppressed numbers stay suppressed)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal
from enum import Enum
from typing import Any

from app.csvcells import SafeWriter
from app.reports.campaign import AttemptRow, CampaignReport, GroupRow, NoticeRow
from app.reports.equity import Rate

SUPPRESSED = "suppressed"
CSV_HEADER = ["section", "group", "measure", "value"]


def to_jsonable(value: Any) -> Any:
    """Dataclasses, dates and money as JSON values (money as exact decimal strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def report_rows(report: CampaignReport) -> list[list[str]]:
    """One row per number in the report: section, group, measure, value."""
    rows: list[list[str]] = []

    def add(section: str, group: str, measure: str, value: object) -> None:
        rows.append([section, group, measure, "" if value is None else str(value)])

    f = report.funnel
    for measure in ("cohort", "excluded", "eligible", "attempted", "answered"):
        add("funnel", "", measure, getattr(f, measure))
    add("funnel", "", "identity_verified", f.identity_verified)
    add("funnel", "", "completed", f.completed)
    for rule, count in f.excluded_by_rule.items():
        add("funnel", rule, "excluded_by_rule", count)
    for outcome, count in f.outcomes.items():
        add("outcome", outcome, "pathways", count)
    add("outcome", "none_yet", "pathways", f.no_outcome_yet)
    d = report.decisions
    for measure in ("removed", "kept", "expedited", "called_back", "open_review_items"):
        add("decisions", "", measure, getattr(d, measure))
    for code, count in d.removed_by_rtt_code.items():
        add("decisions", f"rtt_{code}", "removed", count)
    for section, group_rows in (
        ("specialty", report.by_specialty),
        ("provider", report.by_provider),
    ):
        for row in group_rows:
            _add_fields(add, section, row)
    for section, attempt_rows in (
        ("channel", report.by_channel),
        ("attempt_number", report.by_attempt_number),
        ("hour_of_day", report.by_hour),
    ):
        for attempt_row in attempt_rows:
            _add_fields(add, section, attempt_row)
    for notice_row in report.notices:
        _add_fields(add, "notices", notice_row)
    for field in dataclasses.fields(report.usage):
        add("usage", "", field.name, getattr(report.usage, field.name))
    for breakdown in report.equity:
        section = f"equity_{breakdown.dimension}"
        for group in breakdown.groups:
            if group.suppressed:
                add(section, group.label, "people", SUPPRESSED)
                add(section, group.label, "low_response_flag", group.low_response)
                continue
            add(section, group.label, "people", group.people)
            add(section, group.label, "pathways", group.pathways)
            for name in ("response", "leave", "removal"):
                rate: Rate | None = getattr(group, name)
                if rate is None:
                    continue
                add(section, group.label, f"{name}_count", rate.count)
                add(section, group.label, f"{name}_rate", _round(rate.rate))
                add(
                    section, group.label, f"{name}_ci_low", _round(rate.ci.low if rate.ci else None)
                )
                add(
                    section,
                    group.label,
                    f"{name}_ci_high",
                    _round(rate.ci.high if rate.ci else None),
                )
            add(section, group.label, "p_value_holm", _round(group.p_value_adjusted))
            add(section, group.label, "low_response_flag", group.low_response)
    return rows


def _round(value: float | None) -> str | None:
    return None if value is None else f"{value:.4f}"


def _add_fields(add: Any, section: str, row: GroupRow | AttemptRow | NoticeRow) -> None:
    for field in dataclasses.fields(row):
        if field.name != "key":
            add(section, row.key, field.name, getattr(row, field.name))


def report_csv(report: CampaignReport) -> str:
    """The report as CSV text with a header row."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow(CSV_HEADER)
    writer.writerows(report_rows(report))
    return buffer.getvalue()
