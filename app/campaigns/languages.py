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

from app.db import in_batches
from app.flows import ScriptRegistry, ensure_call_script
from app.models import (
    CallScript,
    Campaign,
    ContactAttempt,
    Pathway,
    Patient,
    TaskReason,
    TaskState,
    WorklistTask,
)
from app.worklist.tasks import open_new_tasks

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


class LanguageRouter:
    """Which script each patient hears (from ``scripts_by_language``): the campaign's, or its
    approved translation in the patient's language. A patient with none is handed to a person:
    ``script_for`` notes them and ``hand_over`` opens their ``language`` tasks in one batch.

    The one place that decides, for a campaign's first calls and a schedule's daily ones alike.
    Planning asks for thousands of patients at once; a task opened one by one (a look-up, a
    flush and an audit row each) was most of the cost of planning a day.
    """

    def __init__(self, languages: Mapping[str, CallScript], *, campaign: Campaign) -> None:
        self._languages = languages
        self._campaign = campaign
        self._unserved: dict[int, tuple[int, str | None]] = {}  # pathway -> patient, language

    def script_for(self, pathway: Pathway, patient: Patient) -> CallScript | None:
        """The approved script ``patient`` hears, or None: there is none in their language and
        a person must validate them (after ``hand_over``)."""
        script = self._languages.get((patient.preferred_language or "en").lower())
        if script is None:
            self._unserved[pathway.id] = (patient.id, patient.preferred_language)
        return script

    def hand_over(self, session: Session, *, now: dt.datetime) -> int:
        """Open a ``language`` task for each patient ``script_for`` found no script for (once a
        pathway: one already open is left as it is); returns how many were opened."""
        ids = list(self._unserved)
        served: set[int] = set()
        for chunk in in_batches(ids):
            served.update(
                session.scalars(
                    select(WorklistTask.pathway_id).where(
                        WorklistTask.pathway_id.in_(chunk),
                        WorklistTask.reason == TaskReason.LANGUAGE,
                        WorklistTask.state == TaskState.OPEN,
                    )
                )
            )
        tasks: list[tuple[int, int, TaskReason, str | None]] = [
            (
                pathway_id,
                patient_id,
                TaskReason.LANGUAGE,
                f"No approved script in the language {language}",
            )
            for pathway_id, (patient_id, language) in self._unserved.items()
            if pathway_id not in served
        ]
        self._unserved.clear()
        return open_new_tasks(session, tasks=tasks, now=now, campaign_id=self._campaign.id)


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
