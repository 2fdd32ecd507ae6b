"""FHIR R4 out: conversations as QuestionnaireResponses, decisions as Tasks, for trusts' systems."""

from app.fhir.bundle import FhirExport, build_bundle
from app.fhir.questionnaire import questionnaire_for, questionnaire_url

__all__ = ["FhirExport", "build_bundle", "questionnaire_for", "questionnaire_url"]
