"""Report pages: a campaign's report (charts, tables, CSV) and the cross-campaign dashboard."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from app.reports.campaign import build_campaign_report
from app.reports.charts import equity_svg, funnel_stages, funnel_svg
from app.reports.dashboard import build_dashboard
from app.reports.export import report_csv
from app.web.auth import StaffUser
from app.web.deps import SessionDep, SettingsDep
from app.web.ids import RowId
from app.web.pages.rendering import render

router = APIRouter()


@router.get("/reports")
def reports_home(_user: StaffUser) -> RedirectResponse:
    """Reports start at the dashboard, which lists every campaign's report."""
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/dashboard")
def dashboard(request: Request, user: StaffUser, session: SessionDep) -> HTMLResponse:
    """Validations, what is due for re-validation, and the review backlog, across campaigns."""
    return render(request, "reports/dashboard.html", {"d": build_dashboard(session)}, user=user)


# Declared before the page route so that "12.csv" is not read as a campaign id.
@router.get("/reports/campaigns/{campaign_id}.csv")
def campaign_report_csv(
    campaign_id: RowId, user: StaffUser, session: SessionDep, settings: SettingsDep
) -> Response:
    """The report's numbers as CSV (suppressed groups stay suppressed)."""
    report = build_campaign_report(
        session,
        campaign_id=campaign_id,
        settings=settings,
        actor=user,
        action="report_downloaded",
    )
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="campaign-{campaign_id}-report.csv"'
        },
    )


@router.get("/reports/campaigns/{campaign_id}")
def campaign_report(
    request: Request,
    campaign_id: RowId,
    user: StaffUser,
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """What one campaign achieved, what followed, what it cost, and whether it was fair."""
    report = build_campaign_report(session, campaign_id=campaign_id, settings=settings, actor=user)
    context = {
        "r": report,
        "stages": funnel_stages(report),
        # Our own SVG: every text in it is escaped when it is built (app/reports/charts.py).
        "funnel_chart": Markup(funnel_svg(report)),  # noqa: S704
        "equity_charts": {
            b.dimension: Markup(equity_svg(b, chart_id=f"equity-{b.dimension}"))  # noqa: S704
            for b in report.equity
        },
    }
    return render(request, "reports/campaign.html", context, user=user)
