"""FHIR R4 out: ``GET /api/v1/fhir/Bundle`` for systems that speak FHIR (audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.fhir import build_bundle
from app.web.api.responses import errors
from app.web.auth import StaffUser
from app.web.deps import SessionDep
from app.web.ids import RowId

router = APIRouter(tags=["fhir"])
FHIR_JSON = "application/fhir+json"


@router.get(
    "/fhir/Bundle",
    response_class=JSONResponse,
    responses={
        200: {"content": {FHIR_JSON: {}}, "description": "A FHIR R4 Bundle of type collection"},
        **errors(403),
    },
)
def fhir_bundle(
    user: StaffUser,
    session: SessionDep,
    campaign_id: Annotated[RowId | None, Query()] = None,
) -> JSONResponse:
    """Questionnaires (one per script run), QuestionnaireResponses (one per conversation with an
    outcome) and Tasks (one per clinical decision), patients referenced by NHS number."""
    export = build_bundle(session, actor=user, campaign_id=campaign_id)
    body: dict[str, Any] = export.bundle
    return JSONResponse(body, media_type=FHIR_JSON)
