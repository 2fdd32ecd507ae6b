"""Server-rendered, accessible SVG charts: the campaign funnel and equity breakdowns.

Plain strings with every text escaped; presentation attributes only (the content security policy
forbids inline styles); ``role="img"`` with a ``<title>`` and ``<desc>`` that say what the chart
shows. Pages put the same numbers in a table next to each chart.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from app.reports.campaign import CampaignReport
from app.reports.equity import EquityBreakdown

NHS_BLUE = "#005eb8"
NHS_DARK_GREY = "#425563"
NHS_RED = "#d5281b"
NHS_PALE_GREY = "#e8edee"
FONT = "Arial, Helvetica, sans-serif"
WIDTH = 680
LABEL_WIDTH = 210
BAR_WIDTH = 360
ROW = 30


def _text(x: float, y: float, content: str, *, anchor: str = "start", **attrs: str) -> str:
    extra = "".join(
        f" {name.replace('_', '-')}={quoteattr(value)}" for name, value in attrs.items()
    )
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-family={quoteattr(FONT)} '
        f'font-size="14" fill="{NHS_DARK_GREY}"{extra}>{escape(content)}</text>'
    )


def _svg(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> str:
    ident = quoteattr(chart_id)
    title_id, desc_id = quoteattr(f"{chart_id}-title"), quoteattr(f"{chart_id}-desc")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id={ident} role="img" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f"aria-labelledby={title_id} aria-describedby={desc_id}>"
        f"<title id={title_id}>{escape(title)}</title>"
        f"<desc id={desc_id}>{escape(desc)}</desc>" + "".join(body) + "</svg>"
    )


def funnel_stages(report: CampaignReport) -> list[tuple[str, int]]:
    """The funnel's stages in order, as the chart and its table show them."""
    f = report.funnel
    return [
        ("Pathways in cohort", f.cohort),
        ("Eligible (not excluded)", f.eligible),
        ("Attempted", f.attempted),
        ("Answered", f.answered),
        ("Identity verified", f.identity_verified),
        ("Completed (validated)", f.completed),
        ("Removed by a clinician", report.decisions.removed),
    ]


def funnel_svg(report: CampaignReport) -> str:
    """A horizontal bar for each stage of the funnel, its count and share of the cohort."""
    stages = funnel_stages(report)
    top = max(report.funnel.cohort, 1)
    body: list[str] = []
    for index, (label, count) in enumerate(stages):
        y = 10 + index * ROW
        width = BAR_WIDTH * count / top
        share = f"{count / top:.0%}" if report.funnel.cohort else "-"
        body.append(_text(LABEL_WIDTH - 10, y + 19, label, anchor="end"))
        body.append(
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{BAR_WIDTH}" height="{ROW - 8}" '
            f'fill="{NHS_PALE_GREY}"/>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{width:.1f}" height="{ROW - 8}" '
            f'fill="{NHS_BLUE}"/>'
        )
        body.append(_text(LABEL_WIDTH + BAR_WIDTH + 8, y + 19, f"{count:,} ({share})"))
    desc = "; ".join(f"{label}: {count:,}" for label, count in stages) + "."
    title = f"Campaign funnel: {report.campaign_name}"
    return _svg(f"funnel-{report.campaign_id}", title, desc, 20 + len(stages) * ROW, body)


def equity_svg(breakdown: EquityBreakdown, *, chart_id: str) -> str:
    """Response rate per group as a bar with its 95% confidence interval as a whisker."""
    body: list[str] = []
    axis_top = 10
    rows = len(breakdown.groups)
    height = axis_top + rows * ROW + 40
    x0 = LABEL_WIDTH
    for tick in (0, 25, 50, 75, 100):
        x = x0 + BAR_WIDTH * tick / 100
        body.append(
            f'<line x1="{x:.1f}" y1="{axis_top}" x2="{x:.1f}" y2="{axis_top + rows * ROW}" '
            f'stroke="{NHS_PALE_GREY}" stroke-width="1"/>'
        )
        body.append(_text(x, axis_top + rows * ROW + 18, f"{tick}%", anchor="middle"))
    described: list[str] = []
    for index, group in enumerate(breakdown.groups):
        y = axis_top + index * ROW
        body.append(_text(x0 - 10, y + 19, group.label, anchor="end"))
        response = group.response
        if group.suppressed or response is None or response.rate is None:
            note = "suppressed (small numbers)" if group.suppressed else "no data"
            if group.low_response:
                note = "suppressed; response significantly low"
            body.append(_text(x0 + 6, y + 19, note, font_style="italic"))
            described.append(f"{group.label}: {note}")
            continue
        colour = NHS_RED if group.low_response else NHS_BLUE
        width = BAR_WIDTH * response.rate
        body.append(
            f'<rect x="{x0}" y="{y + 6}" width="{width:.1f}" height="{ROW - 12}" fill="{colour}"/>'
        )
        if response.ci is not None:
            low, high = x0 + BAR_WIDTH * response.ci.low, x0 + BAR_WIDTH * response.ci.high
            mid = y + ROW / 2
            body.append(
                f'<path d="M{low:.1f} {mid - 6:.1f}V{mid + 6:.1f}M{low:.1f} {mid:.1f}'
                f'H{high:.1f}M{high:.1f} {mid - 6:.1f}V{mid + 6:.1f}" '
                f'stroke="{NHS_DARK_GREY}" stroke-width="2" fill="none"/>'
            )
        flag = "  low" if group.low_response else ""
        body.append(
            _text(x0 + BAR_WIDTH + 8, y + 19, f"{response.rate:.0%} of {response.of:,}{flag}")
        )
        interval = (
            f" (95% CI {response.ci.low:.0%} to {response.ci.high:.0%})" if response.ci else ""
        )
        described.append(
            f"{group.label}: {response.rate:.0%} of {response.of:,} responded{interval}"
            + (", significantly below everyone else" if group.low_response else "")
        )
    if breakdown.overall_response is not None:
        x = x0 + BAR_WIDTH * breakdown.overall_response
        body.append(
            f'<line x1="{x:.1f}" y1="{axis_top}" x2="{x:.1f}" y2="{axis_top + rows * ROW}" '
            f'stroke="{NHS_DARK_GREY}" stroke-width="2" stroke-dasharray="4 3"/>'
        )
        body.append(
            _text(
                x,
                axis_top + rows * ROW + 34,
                f"all: {breakdown.overall_response:.0%}",
                anchor="middle",
            )
        )
    title = f"Response rate by {breakdown.title.lower()}"
    desc = "; ".join(described) + "." if described else "No eligible pathways."
    return _svg(chart_id, title, desc, height, body)
