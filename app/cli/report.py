"""``waitlist report CAMPAIGN_ID``: a campaign's funnel, decisions, costs and equity."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from app.cli.common import console, emit_json, errors, load_settings, unit_of_work
from app.errors import NotFoundError
from app.reports.campaign import CampaignReport, build_campaign_report
from app.reports.charts import funnel_stages
from app.reports.equity import Rate
from app.reports.export import report_csv, to_jsonable


def report(
    campaign_id: Annotated[int, typer.Argument(help="The campaign to report on.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Also write the report as CSV to this file.")
    ] = None,
) -> None:
    """Report what a campaign achieved and whether it reached every group fairly."""
    settings = load_settings()
    with unit_of_work() as session:
        try:
            result = build_campaign_report(
                session,
                campaign_id=campaign_id,
                settings=settings,
                actor=f"cli:{getpass.getuser()}",
                action="report_viewed" if csv_file is None else "report_downloaded",
            )
        except NotFoundError as exc:
            errors.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
    if csv_file is not None:
        csv_file.write_text(report_csv(result), encoding="utf-8")
    if as_json:
        emit_json(to_jsonable(result))
        return
    _print(result)


def _print(result: CampaignReport) -> None:
    table = Table(title=f"Campaign {result.campaign_id}: {result.campaign_name}")
    table.add_column("Stage")
    table.add_column("Pathways", justify="right")
    for label, count in funnel_stages(result):
        table.add_row(label, f"{count:,}")
    for outcome, count in result.funnel.outcomes.items():
        table.add_row(f"  outcome: {outcome.replace('_', ' ')}", f"{count:,}")
    table.add_row("  no outcome yet", f"{result.funnel.no_outcome_yet:,}")
    usage = result.usage
    table.add_row("Estimated cost", f"{usage.currency} {usage.total_cost}")
    table.add_row(
        "Cost per validated pathway", f"{usage.currency} {usage.cost_per_validated_pathway or '-'}"
    )
    table.add_row("Cost per removal", f"{usage.currency} {usage.cost_per_removal or '-'}")
    console.print(table)
    _print_equity(result)


def _rate(rate: Rate | None) -> str:
    if rate is None or rate.rate is None:
        return "-"
    interval = f" ({rate.ci.low:.0%}-{rate.ci.high:.0%})" if rate.ci else ""
    return f"{rate.rate:.0%}{interval}"


def _print_equity(result: CampaignReport) -> None:
    """Response by group, as on the report page: every breakdown, suppressed groups marked."""
    if result.equity:
        console.print(f"\nEquity: {result.equity[0].test}", highlight=False)
    for breakdown in result.equity:
        table = Table(title=breakdown.title, title_justify="left")
        table.add_column("Group")
        table.add_column("People", justify="right")
        table.add_column("Responded (95% CI)", justify="right")
        table.add_column("Said leave", justify="right")
        table.add_column("Removed", justify="right")
        for group in breakdown.groups:
            flag = " (low response)" if group.low_response else ""
            if group.suppressed:
                table.add_row(group.label + flag, "suppressed", "", "", "")
                continue
            table.add_row(
                group.label + flag,
                f"{group.people:,}" if group.people is not None else "-",
                _rate(group.response),
                _rate(group.leave),
                _rate(group.removal),
            )
        console.print(table)
        for suggestion in breakdown.suggestions:
            console.print(f"[yellow]Low response[/yellow] {suggestion}")
