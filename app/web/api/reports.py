"""A campaign's report as JSON, for a trust's own dashboards (suppressed numbers stay out)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.reports.campaign import build_campaign_report
from app.reports.export import to_jsonable
from app.reports.rounds import rounds_report
from app.web.api.responses import errors
from app.web.auth import StaffUser
from app.web.deps import SessionDep, SettingsDep
from app.web.ids import RowId

router = APIRouter(tags=["reports"])


@router.get(
    "/campaigns/{campaign_id}/report",
    responses=errors(404),
)
def campaign_report(
    campaign_id: RowId, user: StaffUser, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """The funnel, decisions, breakdowns, cost estimate and equity breakdowns of one campaign."""
    report = build_campaign_report(session, campaign_id=campaign_id, settings=settings, actor=user)
    document: dict[str, Any] = to_jsonable(report)
    return document


@router.get("/reports/rounds")
def rounds(user: StaffUser, session: SessionDep, cohort_id: RowId | None = None) -> dict[str, Any]:
    """Answers round by round and mutual-aid willingness, by specialty and provider."""
    document: dict[str, Any] = rounds_report(session, cohort_id=cohort_id)
    return document
