"""Which script each patient hears: the campaign's, or its approved translation in the patient's
preferred language; a language with no approved script goes to a person.

A translation of script ``X`` is the script ``X-<language>`` (``standard-validation-cy`` is the
Welsh ``standard-validation``). Its stored version must be approved, as the campaign's must, unless
the campaign is simulated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.flows import ScriptRegistry, ensure_call_script
from app.models import (
    CallScript,
    Campaign,
    ContactAttempt,
    Pathway,
    Patient,
    TaskReason,
    WorklistTask,
)
from app.worklist.tasks import open_task

TRANSLATION_SEPARATOR = "-"


def language_of(script_language: str) -> str:
    """The two-letter code of a script's language (``cy-GB`` -> ``cy``), as the cohort has it."""
    return script_language.split("-", 1)[0].lower()


def store_translations(session: Session, *, registry: ScriptRegistry, flow_id: str) -> int:
    """Store the loaded translations of ``flow_id`` so that planning can route patients to them."""
    stored = 0
    for script in registry.all():
        if script.id.startswith(flow_id + TRANSLATION_SEPARATOR):
            ensure_call_script(session, script)
            stored += 1
    return stored


def scripts_by_language(
    session: Session, *, campaign_script: CallScript, simulated: bool
) -> dict[str, CallScript]:
    """Language code -> the script a patient who prefers it hears (the newest approved one)."""
    own = language_of(campaign_script.language)
    chosen = {own: campaign_script}
    prefix = campaign_script.flow_id + TRANSLATION_SEPARATOR
    query = select(CallScript).where(CallScript.flow_id.startswith(prefix, autoescape=True))
    if not simulated:
        query = query.where(CallScript.approved_at.is_not(None))
    for script in session.scalars(query.order_by(CallScript.id)):
        if language_of(script.language) != own:
            chosen[language_of(script.language)] = script  # later rows are newer
    return chosen


def script_for_patient(
    session: Session,
    *,
    languages: Mapping[str, CallScript],
    campaign: Campaign,
    pathway: Pathway,
    patient: Patient,
    now: dt.datetime,
) -> CallScript | None:
    """The approved script ``patient`` hears (from ``scripts_by_language``), or None: there is
    none in their language, so a ``language`` task is opened (once) and a person validates them.

    The one place that decides, for a campaign's first calls and a schedule's daily ones alike.
    """
    script = languages.get((patient.preferred_language or "en").lower())
    if script is None:
        open_task(
            session,
            pathway=pathway,
            reason=TaskReason.LANGUAGE,
            detail=f"No approved script in the language {patient.preferred_language}",
            campaign_id=campaign.id,
            now=now,
        )
    return script


def routing_counts(session: Session, *, campaign: Campaign) -> dict[str, int]:
    """Where the campaign's patients went: script id -> pathways called with it (first calls),
    ``worklist:<reason>`` -> pathways of the cohort handed to staff instead (language, access)."""
    script_id = func.coalesce(ContactAttempt.call_script_id, campaign.call_script_id)
    scripts = session.execute(
        select(CallScript.flow_id, func.count())
        .select_from(ContactAttempt)
        .join(CallScript, CallScript.id == script_id)
        .where(ContactAttempt.campaign_id == campaign.id, ContactAttempt.attempt_number == 1)
        .group_by(CallScript.flow_id)
    ).all()
    handed = session.execute(
        select(WorklistTask.reason, func.count(func.distinct(WorklistTask.pathway_id)))
        .join(Pathway, Pathway.id == WorklistTask.pathway_id)
        .where(
            Pathway.cohort_id == campaign.cohort_id,
            WorklistTask.reason.in_((TaskReason.LANGUAGE, TaskReason.ACCESS)),
        )
        .group_by(WorklistTask.reason)
    ).all()
    counts = {str(flow_id): int(n) for flow_id, n in scripts}
    counts |= {f"worklist:{reason.value}": int(n) for reason, n in handed}
    return dict(sorted(counts.items()))
