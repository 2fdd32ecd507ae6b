"""A FHIR R4 ``Bundle`` (collection) of conversations and clinical decisions.

Each conversation that reached an outcome becomes a ``QuestionnaireResponse`` against the
``Questionnaire`` of the exact script it ran; each clinical decision becomes a ``Task`` whose focus
is that response. Patients are referenced by NHS number only; nothing else about them is sent.
Every resource is validated by ``fhir.resources`` as it is built, and every export is audited.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.task import Task
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.fhir.questionnaire import (
    OUTCOME_LINK,
    SYSTEM,
    answer_system,
    outcome_system,
    questionnaire_for,
    questionnaire_url,
)
from app.flows.loading import flow_from_text
from app.flows.schema import AskStep, FlowFile, VerifyStep
from app.models import (
    Answer,
    CallScript,
    Campaign,
    ClinicalDecision,
    Pathway,
    PathwayOutcome,
    Patient,
    ReviewItem,
    User,
)

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, SYSTEM)


@dataclass(frozen=True)
class FhirExport:
    """The bundle as JSON-ready data, and what it holds."""

    bundle: dict[str, Any]
    questionnaires: int
    responses: int
    tasks: int


def _full_url(kind: str, key: str) -> str:
    """A stable ``urn:uuid`` for a resource, so a re-export names it the same."""
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}/{key}')}"


def _patient(nhs_number: str) -> dict[str, Any]:
    return {"identifier": {"system": NHS_NUMBER, "value": nhs_number}}


def _pathway_identifier(pathway: Pathway) -> list[dict[str, str]]:
    return [
        {"system": f"{SYSTEM}:pathway", "value": f"{pathway.provider_code}:{pathway.pathway_id}"}
    ]


def _flow_of(script: CallScript) -> FlowFile:
    """The script exactly as the campaign ran it (its stored content, not today's file)."""
    return flow_from_text(script.content)


def _response_items(flow: FlowFile, answers: list[Answer], outcome: str) -> list[dict[str, Any]]:
    """One item per question answered (the last understood answer wins) and the conclusion."""
    chosen: dict[str, dict[str, Any]] = {}
    for answer in answers:
        step = flow.steps.get(answer.step)
        if isinstance(step, VerifyStep):
            chosen[answer.step] = {"valueBoolean": answer.interpretation == "verified"}
        elif isinstance(step, AskStep) and any(
            option.meaning == answer.interpretation for option in step.options
        ):
            chosen[answer.step] = {
                "valueCoding": {
                    "system": answer_system(flow.id, answer.step),
                    "code": answer.interpretation,
                }
            }
    items = [{"linkId": name, "answer": [chosen[name]]} for name in flow.steps if name in chosen]
    items.append(
        {
            "linkId": OUTCOME_LINK,
            "answer": [{"valueCoding": {"system": outcome_system(), "code": outcome}}],
        }
    )
    return items


def build_bundle(
    session: Session, *, actor: User | str, campaign_id: int | None = None
) -> FhirExport:
    """Every conversation with an outcome and every decision (of one campaign, or all)."""
    query = (
        select(PathwayOutcome, Pathway, Patient.nhs_number, CallScript)
        .join(Pathway, Pathway.id == PathwayOutcome.pathway_id)
        .join(Patient, Patient.id == Pathway.patient_id)
        .join(Campaign, Campaign.id == PathwayOutcome.campaign_id)
        .join(CallScript, CallScript.id == Campaign.call_script_id)
        .where(PathwayOutcome.contact_attempt_id.is_not(None))
        .order_by(PathwayOutcome.id)
    )
    if campaign_id is not None:
        query = query.where(PathwayOutcome.campaign_id == campaign_id)
    conversations = session.execute(query).all()
    attempt_ids = [entry.contact_attempt_id for entry, *_ in conversations]
    answers: dict[int, list[Answer]] = defaultdict(list)
    if attempt_ids:
        for answer in session.scalars(
            select(Answer)
            .where(Answer.contact_attempt_id.in_(attempt_ids))
            .order_by(Answer.turn, Answer.id)
        ):
            answers[answer.contact_attempt_id].append(answer)

    entries: list[dict[str, Any]] = []
    flows: dict[int, FlowFile] = {}
    response_url: dict[int, str] = {}
    for entry, pathway, nhs_number, script in conversations:
        if script.id not in flows:
            flows[script.id] = _flow_of(script)
            questionnaire = questionnaire_for(flows[script.id], content_hash=script.content_hash)
            entries.append(
                {
                    "fullUrl": _full_url("Questionnaire", script.content_hash),
                    "resource": questionnaire.model_dump(mode="json", exclude_none=True),
                }
            )
        flow = flows[script.id]
        attempt_id = entry.contact_attempt_id
        assert attempt_id is not None  # selected above
        response = QuestionnaireResponse.model_validate(
            {
                "resourceType": "QuestionnaireResponse",
                "id": f"conversation-{attempt_id}",
                "identifier": _pathway_identifier(pathway)[0],
                "questionnaire": f"{questionnaire_url(flow.id)}|{flow.version}",
                "status": "completed",
                "subject": _patient(nhs_number),
                "authored": entry.recorded_at.isoformat(),
                "item": _response_items(flow, answers[attempt_id], entry.outcome.value),
            }
        )
        response_url[entry.id] = _full_url("QuestionnaireResponse", str(attempt_id))
        entries.append(
            {
                "fullUrl": response_url[entry.id],
                "resource": response.model_dump(mode="json", exclude_none=True),
            }
        )

    decisions = select(ClinicalDecision, ReviewItem, Pathway, Patient.nhs_number, User.full_name)
    decisions = (
        decisions.join(ReviewItem, ReviewItem.id == ClinicalDecision.review_item_id)
        .join(Pathway, Pathway.id == ClinicalDecision.pathway_id)
        .join(Patient, Patient.id == Pathway.patient_id)
        .join(User, User.id == ClinicalDecision.decided_by_id)
        .order_by(ClinicalDecision.id)
    )
    if campaign_id is not None:
        decisions = decisions.where(ReviewItem.campaign_id == campaign_id)
    tasks = 0
    for decision, item, pathway, nhs_number, clinician in session.execute(decisions):
        inputs = [
            {"type": {"text": label}, "valueString": value}
            for label, value in (
                ("RTT status code", decision.rtt_status_code),
                ("New priority", decision.new_priority),
            )
            if value
        ]
        resource: dict[str, Any] = {
            "resourceType": "Task",
            "id": f"decision-{decision.id}",
            "identifier": _pathway_identifier(pathway),
            "status": "cancelled" if decision.undone_at else "completed",
            "intent": "order",
            "code": {"coding": [{"system": f"{SYSTEM}:decision", "code": decision.decision.value}]},
            "for": _patient(nhs_number),
            "authoredOn": decision.decided_at.isoformat(),
            "lastModified": (decision.undone_at or decision.decided_at).isoformat(),
            "requester": {"display": clinician},
        }
        if item.pathway_outcome_id in response_url:
            resource["focus"] = {"reference": response_url[item.pathway_outcome_id]}
        if decision.note:
            resource["note"] = [{"text": decision.note}]
        if inputs:
            resource["input"] = inputs
        task = Task.model_validate(resource)
        entries.append(
            {
                "fullUrl": _full_url("Task", str(decision.id)),
                "resource": task.model_dump(mode="json", exclude_none=True),
            }
        )
        tasks += 1

    bundle = Bundle.model_validate(
        {"resourceType": "Bundle", "type": "collection", "entry": entries}
    )
    audit.record(
        session,
        actor=actor,
        action="fhir.exported",
        entity_type="campaign" if campaign_id is not None else "service",
        entity_id=campaign_id,
        detail={"responses": len(conversations), "tasks": tasks},
    )
    session.flush()
    return FhirExport(
        bundle=bundle.model_dump(mode="json", exclude_none=True),
        questionnaires=len(flows),
        responses=len(conversations),
        tasks=tasks,
    )
