"""FHIR R4 out: a real conversation and a clinician's decision, as a validated Bundle."""

from __future__ import annotations

import httpx
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from fhir.resources.R4B.task import Task
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import (
    AttemptStatus,
    AuditEvent,
    CallScript,
    Decision,
    Patient,
    ReviewItem,
    Role,
)
from app.review.decisions import decide
from tests.support.factories import make_pathway
from tests.support.telephony import (
    call_params,
    call_sid,
    make_attempt,
    post_signed,
    validation_script,
)
from tests.support.users import make_service_account
from tests.web.test_review_api import bearer
from tests.web.webhooks.test_ordering import DATE_OF_BIRTH, _action_path

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"


async def _a_patient_who_said_they_no_longer_need_it(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> tuple[Patient, CallScript]:
    pathway = make_pathway(db_session)
    script = validation_script(db_session)
    attempt = make_attempt(
        db_session, pathway=pathway, call_script=script, status=AttemptStatus.PLACED
    )
    sid = call_sid()
    twiml = (
        await post_signed(
            client, settings, f"/webhooks/twilio/voice/{attempt.token}", call_params(sid)
        )
    ).text
    for digits in (DATE_OF_BIRTH, "2"):
        twiml = (
            await post_signed(
                client, settings, _action_path(twiml, settings), call_params(sid, Digits=digits)
            )
        ).text
    patient = db_session.get(Patient, pathway.patient_id)
    assert patient is not None
    return patient, script


async def test_a_conversation_and_its_decision_are_a_valid_fhir_bundle(
    client: httpx.AsyncClient, settings: Settings, db_session: Session
) -> None:
    patient, script = await _a_patient_who_said_they_no_longer_need_it(client, settings, db_session)
    item = db_session.scalars(select(ReviewItem)).one()
    clinician = make_service_account(db_session, username="dr-fhir", role=Role.CLINICIAN)
    decide(
        db_session,
        item_id=item.id,
        seen_version=item.version,
        decision=Decision.REMOVE,
        rtt_status_code="35",
        note="Had the operation privately.",
        by=clinician,
    )
    headers = bearer(db_session, Role.COORDINATOR)
    db_session.commit()

    response = await client.get("/api/v1/fhir/Bundle", headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(response.json())
    assert bundle.type == "collection"
    resources = {e.fullUrl: e.resource for e in bundle.entry or [] if e.resource is not None}
    [questionnaire] = [r for r in resources.values() if r.get_resource_type() == "Questionnaire"]
    [answers] = [r for r in resources.values() if r.get_resource_type() == "QuestionnaireResponse"]
    [task] = [r for r in resources.values() if r.get_resource_type() == "Task"]
    assert isinstance(questionnaire, Questionnaire)
    assert isinstance(answers, QuestionnaireResponse)
    assert isinstance(task, Task)

    assert questionnaire.identifier is not None
    assert questionnaire.identifier[0].value == script.content_hash
    assert {i.linkId for i in questionnaire.item or []} >= {"identity", "still_needed", "outcome"}
    assert answers.questionnaire == f"{questionnaire.url}|{questionnaire.version}"
    assert answers.subject is not None and answers.subject.identifier is not None
    assert (answers.subject.identifier.system, answers.subject.identifier.value) == (
        NHS_NUMBER,
        patient.nhs_number,
    )
    given = {item.linkId: item.answer[0] for item in answers.item or [] if item.answer}
    assert given["identity"].valueBoolean is True
    assert given["still_needed"].valueCoding is not None
    assert given["still_needed"].valueCoding.code == "not_needed"
    assert given["outcome"].valueCoding is not None
    assert given["outcome"].valueCoding.code == "leave"
    assert DATE_OF_BIRTH not in response.text and patient.given_name not in response.text

    assert (task.status, task.intent) == ("completed", "order")
    assert task.code is not None and task.code.coding is not None
    assert task.code.coding[0].code == "remove"
    assert task.focus is not None and task.focus.reference in resources
    assert resources[task.focus.reference] is answers
    assert db_session.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.exported")).one()


async def test_the_fhir_bundle_needs_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/fhir/Bundle")).status_code == 401
