"""Applying exclusion rules: to a cohort (stored with reasons) or to one pathway before contact."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, String, func, select, type_coerce
from sqlalchemy.orm import Session

from app.bulk import Dialect, dialect, in_blocks, marks
from app.db import utcnow
from app.eligibility.conditions import PathwayFacts, compile_rule
from app.eligibility.rules import RuleSet, load_rules
from app.errors import NotFoundError
from app.models import (
    AttemptStatus,
    ContactAttempt,
    Exclusion,
    Outcome,
    Pathway,
    PathwayStatus,
    Patient,
    TaskReason,
    WorklistTask,
)
from app.worklist.tasks import open_new_tasks

__all__ = [
    "ExclusionReason",
    "evaluate_cohort",
    "exclusion_counts",
    "exclusion_reasons",
    "load_rules",
]

BATCH = 5_000


@dataclass(frozen=True, slots=True)
class ExclusionReason:
    """One rule that excludes a pathway, and why, in words staff can read."""

    rule_id: str
    reason: str


def _facts_query() -> Select[Any]:
    last_contact = (
        select(
            ContactAttempt.patient_id.label("patient_id"),
            func.max(
                func.coalesce(
                    ContactAttempt.ended_at, ContactAttempt.answered_at, ContactAttempt.placed_at
                )
            ).label("last_contact_at"),
        )
        # Only contacts that reached the patient: unanswered attempts must not block retries.
        .where(ContactAttempt.status == AttemptStatus.COMPLETED)
        .group_by(ContactAttempt.patient_id)
        .subquery()
    )
    # Dates and the JSON lists come back as the driver gives them (``_facts`` converts them):
    # the column types' per-value processing cost more than the rules at a million pathways.
    return (
        select(
            Pathway.id,
            type_coerce(Patient.date_of_birth, String),
            type_coerce(Patient.date_of_death, String),
            type_coerce(Pathway.flags, String),
            type_coerce(Pathway.diagnosis_codes, String),
            Patient.mobile_phone,
            Patient.landline_phone,
            Patient.opted_out_at,
            last_contact.c.last_contact_at,
            Patient.interpreter_required,
        )
        .join(Patient, Patient.id == Pathway.patient_id)
        .outerjoin(last_contact, last_contact.c.patient_id == Pathway.patient_id)
    )


def _date(value: Any) -> Any:
    # SQLite hands back the ISO text the Date type stored; PostgreSQL's driver a date.
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _codes(value: Any) -> tuple[str, ...]:
    # SQLite hands back the JSON text; PostgreSQL's driver the parsed list.
    if isinstance(value, str):
        return () if value == "[]" else tuple(json.loads(value))
    return tuple(value or ())


def _facts(record: Any) -> PathwayFacts:
    last = record[8]
    if isinstance(last, str):  # an aggregate may bypass the column type on SQLite
        last = dt.datetime.fromisoformat(last)
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    return PathwayFacts(
        pathway_id=record[0],
        date_of_birth=_date(record[1]),
        date_of_death=_date(record[2]),
        flags=_codes(record[3]),
        diagnosis_codes=_codes(record[4]),
        mobile_phone=record[5],
        landline_phone=record[6],
        opted_out_at=record[7],
        last_contact_at=last,
        interpreter_required=bool(record[9]),
    )


Compiled = list[tuple[str, Callable[[PathwayFacts, dt.date], str | None]]]


def _follow_ups(rules: RuleSet) -> dict[str, TaskReason]:
    return {rule.id: TaskReason(rule.follow_up) for rule in rules.rules if rule.follow_up}


def open_follow_ups(
    session: Session, *, wanted: dict[int, list[tuple[TaskReason, str]]], now: dt.datetime
) -> int:
    """A worklist task for each pathway a follow-up rule keeps from automated contact.

    Once per pathway and reason, and only while no conversation (or member of staff) has
    reached an outcome for it: a re-import does not reopen what a person has already done.
    """
    if not wanted:
        return 0
    done: set[tuple[int, TaskReason]] = set()
    outcomes: dict[int, tuple[int, Outcome]] = {}
    for block in in_blocks(list(wanted)):
        done.update(
            (pathway_id, reason)
            for pathway_id, reason in session.execute(
                select(WorklistTask.pathway_id, WorklistTask.reason).where(
                    WorklistTask.pathway_id.in_(block)
                )
            )
        )
        for pathway_id, patient_id, outcome in session.execute(
            select(Pathway.id, Pathway.patient_id, Pathway.outcome).where(Pathway.id.in_(block))
        ):
            outcomes[pathway_id] = (patient_id, outcome)
    new: list[tuple[int, int, TaskReason, str | None]] = []
    for pathway_id, needs in wanted.items():
        patient_id, outcome = outcomes[pathway_id]
        if outcome not in (Outcome.PENDING, Outcome.EXCLUDED):
            continue
        for reason, detail in needs:
            if (pathway_id, reason) in done:
                continue
            done.add((pathway_id, reason))
            new.append((pathway_id, patient_id, reason, detail))
    return open_new_tasks(session, tasks=new, now=now)


def _compile(rules: RuleSet) -> Compiled:
    return [(rule.id, compile_rule(rule)) for rule in rules.rules]


def _reasons(facts: PathwayFacts, compiled: Compiled, on_date: dt.date) -> list[ExclusionReason]:
    found = []
    for rule_id, reason_for in compiled:
        reason = reason_for(facts, on_date)
        if reason is not None:
            found.append(ExclusionReason(rule_id, reason))
    return found


def exclusion_reasons(
    session: Session, *, pathway_id: int, rules: RuleSet, on_date: dt.date
) -> list[ExclusionReason]:
    """Every rule that excludes this pathway today (empty: it may be contacted). Writes nothing."""
    record = session.execute(_facts_query().where(Pathway.id == pathway_id)).first()
    if record is None:
        raise NotFoundError(f"pathway {pathway_id} not found")
    return _reasons(_facts(record), _compile(rules), on_date)


def evaluate_cohort(
    session: Session, *, cohort_id: int, rules: RuleSet, on_date: dt.date
) -> dict[str, int]:
    """Store every excluding rule per open pathway and set outcomes; return counts per rule id.

    Each evaluated pathway's exclusion rows are replaced. An excluded pathway still ``pending``
    becomes ``excluded``; an ``excluded`` one that no rule excludes any more goes back to
    ``pending``. Outcomes reached by a conversation are left alone (the exclusion rows still
    stop further contact). Flushes, does not commit.
    """
    counts: Counter[str] = Counter({rule.id: 0 for rule in rules.rules})
    compiled = _compile(rules)
    follow_ups = _follow_ups(rules)
    sql = dialect(session.connection())
    stamp = sql.timestamp(utcnow())
    query = _facts_query().where(
        Pathway.cohort_id == cohort_id, Pathway.status == PathwayStatus.OPEN
    )
    after = 0
    while True:
        batch = session.execute(query.where(Pathway.id > after).order_by(Pathway.id).limit(BATCH))
        facts = [_facts(record) for record in batch]
        if not facts:
            break
        after = facts[-1].pathway_id
        ids = [f.pathway_id for f in facts]
        rows: list[tuple[Any, ...]] = []
        excluded: list[int] = []
        wanted: dict[int, list[tuple[TaskReason, str]]] = {}
        for fact in facts:
            reasons = _reasons(fact, compiled, on_date)
            if reasons:
                excluded.append(fact.pathway_id)
            for item in reasons:
                counts[item.rule_id] += 1
                rows.append((fact.pathway_id, item.rule_id, item.reason, rules.hash, stamp))
                if item.rule_id in follow_ups:
                    wanted.setdefault(fact.pathway_id, []).append(
                        (follow_ups[item.rule_id], item.reason)
                    )
        _replace_batch(session.connection(), sql, ids=ids, excluded=excluded, rows=rows, now=stamp)
        open_follow_ups(session, wanted=wanted, now=utcnow())
    return dict(counts)


def _replace_batch(
    connection: Connection,
    sql: Dialect,
    *,
    ids: list[int],
    excluded: list[int],
    rows: list[tuple[Any, ...]],
    now: Any,
) -> None:
    # Driver-level statements (see app.bulk): this runs for every pathway of a cohort.
    for block in in_blocks(ids):
        connection.exec_driver_sql(
            f"DELETE FROM exclusion WHERE pathway_id IN ({marks(sql, len(block))})",  # noqa: S608
            block,
        )
    if rows:
        connection.exec_driver_sql(
            "INSERT INTO exclusion (pathway_id, rule_id, reason, rule_set_hash, evaluated_at) "  # noqa: S608
            f"VALUES ({marks(sql, 5)})",
            rows,
        )
    # Guarded: only a pending pathway becomes excluded, only an excluded one goes back.
    for block in in_blocks(excluded):
        connection.exec_driver_sql(
            f"UPDATE pathway SET outcome = 'excluded', outcome_at = {sql.placeholder} "  # noqa: S608
            f"WHERE outcome = 'pending' AND id IN ({marks(sql, len(block))})",
            (now, *block),
        )
    for block in in_blocks(sorted(set(ids) - set(excluded))):
        connection.exec_driver_sql(
            f"UPDATE pathway SET outcome = 'pending', outcome_at = {sql.placeholder} "  # noqa: S608
            f"WHERE outcome = 'excluded' AND id IN ({marks(sql, len(block))})",
            (now, *block),
        )


def exclusion_counts(session: Session, *, cohort_id: int) -> dict[str, int]:
    """How many open pathways of the cohort each rule excludes, as last evaluated."""
    query = (
        select(Exclusion.rule_id, func.count())
        .join(Pathway, Pathway.id == Exclusion.pathway_id)
        .where(Pathway.cohort_id == cohort_id, Pathway.status == PathwayStatus.OPEN)
        .group_by(Exclusion.rule_id)
        .order_by(Exclusion.rule_id)
    )
    return {rule_id: int(count) for rule_id, count in session.execute(query)}
