"""``waitlist report CAMPAIGN_ID``: a campaign's funnel, decisions, costs and equity."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from app.cli.common import console, emit_json, load_settings, unit_of_work
from app.errors import NotFoundError
from app.reports.campaign import CampaignReport, build_campaign_report
from app.reports.charts import funnel_stages
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
            console.print(f"[red]{exc}[/red]")
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
    usage = result.usage
    table.add_row("Estimated cost", f"{usage.currency} {usage.total_cost}")
    table.add_row(
        "Cost per validated pathway", f"{usage.currency} {usage.cost_per_validated_pathway or '-'}"
    )
    table.add_row("Cost per removal", f"{usage.currency} {usage.cost_per_removal or '-'}")
    console.print(table)
    for breakdown in result.equity:
        for suggestion in breakdown.suggestions:
            console.print(f"[yellow]Low response[/yellow] {suggestion}")
