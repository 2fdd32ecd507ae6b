"""FHIR R4 out: ``GET /api/v1/fhir/Bundle`` for systems that speak FHIR (audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.fhir import build_bundle
from app.web.auth import StaffUser
from app.web.deps import SessionDep

router = APIRouter(tags=["fhir"])
FHIR_JSON = "application/fhir+json"


@router.get(
    "/fhir/Bundle",
    response_class=JSONResponse,
    responses={
        200: {"content": {FHIR_JSON: {}}, "description": "A FHIR R4 Bundle of type collection"},
        401: {"description": "No valid bearer token"},
        403: {"description": "The token's role may not read patient records"},
    },
)
def fhir_bundle(
    user: StaffUser,
    session: SessionDep,
    campaign_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> JSONResponse:
    """Questionnaires (one per script run), QuestionnaireResponses (one per conversation with an
    outcome) and Tasks (one per clinical decision), patients referenced by NHS number."""
    export = build_bundle(session, actor=user, campaign_id=campaign_id)
    body: dict[str, Any] = export.bundle
    return JSONResponse(body, media_type=FHIR_JSON)
